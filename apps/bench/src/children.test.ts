import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { cpuPinning } from './children.ts'

function allowedCpus(wrapper: string[]): string {
  const [command, ...args] = wrapper
  const script =
    "process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8').match(/Cpus_allowed_list:\\s*(\\S+)/)[1])"
  const run = spawnSync(command!, [...args, process.execPath, '-e', script], { encoding: 'utf8' })
  expect(run.status).toBe(0)
  return run.stdout
}

const canPin =
  process.platform === 'linux' &&
  availableParallelism() >= 2 &&
  spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' }).status === 0
if (!canPin) console.warn('skipped: CPU pinning needs Linux, two CPUs and taskset')

describe('cpuPinning', () => {
  it.skipIf(!canPin)('puts a server on CPU 1 and its load generator on CPU 0', () => {
    const pinning = cpuPinning()
    expect(pinning).not.toBeNull()
    expect(allowedCpus(pinning!.server)).toBe('1')
    expect(allowedCpus(pinning!.load)).toBe('0')
  })
})
