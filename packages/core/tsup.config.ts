import { packageBuild } from '../../tsup.shared.ts'

export default packageBuild({
  entries: {
    index: 'src/index.ts',
    adapter: 'src/adapter.ts',
    store: 'src/store.ts',
    audit: 'src/audit.ts',
    'sidecar-protocol': 'src/sidecar-protocol-entry.ts',
  },
})
