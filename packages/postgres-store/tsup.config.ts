import { packageBuild } from '../../tsup.shared.ts'

export default packageBuild({ entries: { index: 'src/index.ts' }, bins: { cli: 'src/cli.ts' } })
