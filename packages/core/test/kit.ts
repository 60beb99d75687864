// Core's tests use the test kit by relative path: a package.json dependency on @coresdk/testing would be a cycle.

export type { JwksServer } from '../../testing/src/jwks-server.ts'
export { startJwksServer } from '../../testing/src/jwks-server.ts'
export type { TestAlgorithm, TestKeys } from '../../testing/src/mint.ts'
export { craftToken, createTestKeys, mintToken, TestIssuer } from '../../testing/src/mint.ts'
