// Loaded first (`--import`, before tsx) in every process the bench starts, whatever it measures.
//
// Node's `process.nextTick` builds each queued tick as `{ [async_id_symbol]: id, [trigger_async_id_symbol]: id,
// callback, args }`. In most server processes of the bench, that literal's inline caches ended up megamorphic (which
// processes did depended on start-up timing; the V8 event that tips them was not pinned down), and from then on
// every property of every tick went through V8's runtime: 35,000 to 43,000 more instructions per request on
// Fastify, Express and Nest, in some processes and not others, bare ones included. Building one object of the
// tick's shape, with double ids, before anything else runs kept the caches monomorphic in every process measured
// (test/workers.test.ts checks it in a loaded server): the variants are compared on their code, not on which state
// their process fell into.
import { createHook } from 'node:async_hooks'

try {
  let tick
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject') tick = resource
    },
  }).enable()
  process.nextTick(() => {})
  hook.disable()
  const [asyncId, triggerId] = tick === undefined ? [] : Object.getOwnPropertySymbols(tick)
  if (typeof asyncId === 'symbol' && typeof triggerId === 'symbol')
    globalThis[Symbol.for('coresdk.bench.tickShape')] = {
      [asyncId]: 0.5,
      [triggerId]: 0.5,
      callback: () => {},
      args: undefined,
    }
} catch {
  // Another Node's ticks: measured as they are.
}
