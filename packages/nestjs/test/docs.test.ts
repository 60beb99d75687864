import { describeDocsSnippet } from '@coresdk/testing'

describeDocsSnippet({ from: import.meta.url, page: '../../../docs/nestjs.md', listens: 'app.listen(3000' })
