import swc from 'unplugin-swc'
import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

// SWC emits decorator metadata, which esbuild does not; Nest's dependency injection needs it.
export default mergeConfig(sharedConfig, defineConfig({ plugins: [swc.vite({ module: { type: 'es6' } })] }))
