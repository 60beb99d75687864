import { packageBuild } from '../../tsup.shared.ts'

export default packageBuild({
  entries: { index: 'src/index.ts' },
  bins: { 'bin/sidecar': 'src/bin/sidecar.ts', 'bin/coresdk': 'src/bin/coresdk.ts' },
})
