import { describeDocsSnippet } from '@coresdk/testing/vitest'

describeDocsSnippet({ from: import.meta.url, page: '../../../docs/express.md', listens: 'app.listen(3000' })
