import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

// The contract test runs the app as its own process (tsx, no decorator metadata): no SWC needed here.
export default mergeConfig(sharedConfig, defineConfig({}))
