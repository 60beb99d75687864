import { describeDocsSnippet } from '@coresdk/testing/vitest'

describeDocsSnippet({
  from: import.meta.url,
  page: '../../../docs/fastify.md',
  listens: 'app.listen({ port: 3000 })',
})
