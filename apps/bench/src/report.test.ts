import { describe, expect, it } from 'vitest'
import type { ProfileSummary } from './profile.ts'
import { profileHints, renderMarkdown } from './report.ts'

const summary = (inclusive: ProfileSummary['inclusive']): ProfileSummary => ({
  operations: 100,
  totalMs: 100,
  busyMs: 100,
  areas: [],
  top: [],
  inclusive,
})

describe('report', () => {
  it('names the token digest when the profile shows it, and stays quiet when it does not', () => {
    const hints = profileHints(
      summary([
        { name: 'digest in Node.js internals', ms: 30, share: 0.3 },
        { name: 'jwtVerify', ms: 12, share: 0.12 },
      ]),
    )
    expect(hints).toHaveLength(1)
    expect(hints[0]).toMatch(/sessionKey\(\).*30\.0 %.*12\.0 %/)
    expect(profileHints(summary([{ name: 'digest in Node.js internals', ms: 1, share: 0.01 }]))).toEqual([])
  })

  it('renders a report with parts missing, saying so', () => {
    const text = renderMarkdown({
      date: '2026-01-01',
      mode: 'quick',
      machine: {
        cpuModel: 'cpu',
        cpuCount: 2,
        memoryGiB: 1,
        loadAverage: 0,
        node: 'v20',
        platform: 'linux x64',
        redis: null,
        postgres: null,
      },
      versions: { jose: '6.2.18' },
      settings: {
        verify: { rounds: 1, durationMs: 1, warmupMs: 1 },
        http: {
          rounds: 1,
          durationSec: 1,
          warmupRequests: 1,
          connections: 1,
          frameworks: [],
          variants: [],
          baseline: null,
          pinning: null,
        },
        sessions: { rounds: 1, count: 1, concurrency: 1, revocations: 1, memorySessions: 1 },
      },
      verify: null,
      http: null,
      sessions: null,
      targets: [],
      profiles: [],
      durationSec: 1,
    })
    expect(text).toMatch(/^# Benchmarks\n/)
    expect(text).toContain('Redis not reachable')
    expect(text).toContain('No target was missed in this run.')
    expect(text).not.toContain('## 2. HTTP')
  })
})
