import { describeDocsSnippet } from '@coresdk/testing/vitest'

describeDocsSnippet({ from: import.meta.url, page: '../../../docs/nestjs.md', listens: 'app.listen(3000' })
