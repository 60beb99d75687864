import { describeDocsSnippet } from '@coresdk/testing/vitest'

describeDocsSnippet({ from: import.meta.url, page: '../../../docs/hono.md', listens: 'port: 3000' })
