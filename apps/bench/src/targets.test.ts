import { describe, expect, it } from 'vitest'
import type { HttpResult } from './http/http-bench.ts'
import { type SessionsReport, unmeasuredPropagation } from './sessions/sessions-bench.ts'
import { evaluateTargets, verdict } from './targets.ts'
import type { VerifyResult } from './verify/verify-bench.ts'

function http(framework: HttpResult['framework'], variant: HttpResult['variant'], rps: number): HttpResult {
  return {
    framework,
    variant,
    unavailable: null,
    rps,
    p50: 1,
    p99: 2,
    cpuUsPerRequest: 10,
    roundsRps: [rps],
    roundsCpu: [10],
    failures: 0,
  }
}

describe('evaluateTargets', () => {
  it('judges the warm path against bare and the usual middleware', () => {
    const targets = evaluateTargets(
      null,
      [
        http('fastify', 'bare', 1000),
        http('fastify', 'coresdk-memory', 850),
        http('fastify', 'coresdk-redis', 840),
        http('fastify', 'usual', 200),
      ],
      null,
    )
    const byId = new Map(targets.map((t) => [t.id, t]))
    expect(byId.get('warm-vs-bare-fastify')).toMatchObject({ met: false, value: 0.85 })
    expect(verdict(byId.get('warm-vs-bare-fastify')!)).toMatch(/^MISSED by 0\.05 \(0\.85× vs ≥ 0\.90×/)
    expect(byId.get('warm-vs-usual-fastify')).toMatchObject({ met: true, value: 4.25 })
    expect(byId.get('redis-vs-memory-fastify')?.met).toBe(true)
  })

  it('gives n/a when a row is missing, never a verdict', () => {
    const rows = [
      http('express', 'bare', 1000),
      { ...http('express', 'coresdk-memory', 0), unavailable: 'not available' },
    ]
    const target = evaluateTargets(null, rows, null).find((t) => t.id === 'warm-vs-bare-express')!
    expect(target.met).toBeNull()
    expect(verdict(target)).toBe('n/a')
  })

  it('compares cold verification time with jose', () => {
    const verify: VerifyResult[] = [
      { alg: 'RS256', competitor: 'coresdk-cold', opsPerSec: 1000, nsPerOp: 1_300_000, rounds: [] },
      { alg: 'RS256', competitor: 'jose', opsPerSec: 1000, nsPerOp: 1_000_000, rounds: [] },
    ]
    const target = evaluateTargets(verify, null, null).find((t) => t.id === 'cold-verify-RS256')!
    expect(target.met).toBe(false)
    expect(target.value).toBeCloseTo(1.3)
  })

  it('judges the memory store at its cap against below it, and says n/a when it was not measured', () => {
    const sessions = (memoryCap: SessionsReport['memoryCap']): SessionsReport => ({
      ops: [],
      propagation: [unmeasuredPropagation('redis', 'no Redis')],
      memory: { unavailable: 'skipped' },
      memoryCap,
    })
    const judged = (memoryCap: SessionsReport['memoryCap']) =>
      evaluateTargets(null, null, sessions(memoryCap)).find((t) => t.id === 'memory-create-at-cap')!
    const measured = {
      capacity: 1000,
      count: 200,
      belowCapNs: 1000,
      atCapNs: 1500,
      belowCapCpuNs: 900,
      atCapCpuNs: 1350,
      ratio: 1.5,
      wallRatio: 1.5,
    }
    expect(judged(measured)).toMatchObject({ met: true, value: 1.5 })
    expect(judged({ ...measured, ratio: 2.5 }).met).toBe(false)
    expect(judged({ unavailable: 'worker died' }).met).toBeNull()
  })
})
