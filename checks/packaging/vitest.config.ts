import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      // Packs every package and installs the tarballs into fresh projects, once for every test file.
      globalSetup: ['test/setup.ts'],
      // Each file starts servers and compilers: one file at a time, two type checks at a time (the machine may have
      // two cores).
      fileParallelism: false,
      maxConcurrency: 2,
      testTimeout: 180_000,
    },
  }),
)
