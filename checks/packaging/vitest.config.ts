import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      // Packs every package and installs the tarballs into fresh projects, once for every test file.
      globalSetup: ['test/setup.ts'],
      // Each file starts servers and compilers: one file and one compiler at a time, so that this check takes about one
      // core and leaves the other to the packages' tests turbo runs beside it (some of them timing-sensitive).
      fileParallelism: false,
      maxConcurrency: 1,
      testTimeout: 180_000,
    },
  }),
)
