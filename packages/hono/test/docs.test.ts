import { describeDocsSnippet } from '@coresdk/testing'

describeDocsSnippet({ from: import.meta.url, page: '../../../docs/hono.md', listens: 'port: 3000' })
