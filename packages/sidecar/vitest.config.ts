import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

// The integration tests start real sidecar and CLI processes (a TypeScript loader each): allow them the time.
export default mergeConfig(sharedConfig, defineConfig({ test: { testTimeout: 60_000 } }))
