import { describe, expect, it } from 'vitest'
import { formatRatio, median, pairedRatio, percentile, table } from './stats.ts'

describe('stats', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const values = [5, 1, 3]
    expect(median(values)).toBe(3)
    expect(values).toEqual([5, 1, 3])
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 200 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(100)
    expect(percentile(values, 99)).toBe(198)
    expect(percentile(values, 100)).toBe(200)
    expect(percentile([7], 99)).toBe(7)
  })

  it('formats a missing ratio as n/a', () => {
    expect(formatRatio(0.934)).toBe('0.93×')
    expect(formatRatio(Number.NaN)).toBe('n/a')
  })

  it('draws a Markdown table with aligned columns', () => {
    const text = table(
      ['name', 'n'],
      [
        ['a', '1'],
        ['bbb', '22'],
      ],
    )
    expect(text.split('\n')).toEqual(['| name |  n |', '|------|---:|', '| a    |  1 |', '| bbb  | 22 |'])
  })

  it('pairs ratios by round, so a noisy round does not mix with a quiet one', () => {
    // Round 2 ran while the machine was busy: both variants slowed down together.
    expect(pairedRatio([90, 30, 85], [100, 35, 100])).toBeCloseTo(0.857, 3)
    expect(median([90, 30, 85]) / median([100, 35, 100])).toBeCloseTo(0.85, 3)
    expect(pairedRatio([31, 12, 13], [37, 36, 15])).toBeCloseTo(0.838, 3)
    expect(pairedRatio([1, 2], [1])).toBeCloseTo(1.5 / 1, 5)
  })
})
