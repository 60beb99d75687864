/**
 * Where a request came from and on what: the client address (through trusted proxies only) and the parsed user
 * agent. Read when a session is created, never on a warm request.
 */

/** What an adapter knows of a request's origin, unparsed. */
export interface ClientHints {
  /** The `User-Agent` header. */
  userAgent?: string | null | undefined
  /** The address of the peer that opened the connection (the socket's remote address), when the runtime tells it. */
  remoteAddress?: string | null | undefined
  /** The `X-Forwarded-For` header value(s), read only when the peer is a trusted proxy. */
  forwardedFor?: string | string[] | null | undefined
  /** The `Forwarded` header value(s) (RFC 7239), read only when the peer is a trusted proxy; preferred over `X-Forwarded-For`. */
  forwarded?: string | string[] | null | undefined
}

/** Which peers may name the client: none, every one (`true`), the first `hops` ones, or those in a list of ranges. */
export type TrustProxy = false | true | number | readonly string[]

/** A resolved {@link TrustProxy}: whether the peer at `hop` (0 = the socket's) with address `ip` is trusted. */
export type TrustTest = (ip: Uint8Array, hop: number) => boolean

/** The browser, operating system and kind of device a `User-Agent` names; null where it does not tell. */
export interface UserAgentInfo {
  /** The browser and its major version, e.g. `Chrome 140`. */
  browser: string | null
  /** The operating system, e.g. `macOS`, `Android`. */
  os: string | null
  /** `desktop`, `mobile`, `tablet`, `bot`, or null when unknown. */
  deviceType: 'desktop' | 'mobile' | 'tablet' | 'bot' | null
}

// Headers past these bounds are not read further: a client cannot make the parse cost more.
const MAX_USER_AGENT = 256
const MAX_FORWARDED = 2048
const MAX_HOPS = 32

const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bFxiOS\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/\bCriOS\/(\d+)/, 'Chrome'],
  [/\bChrom(?:e|ium)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/\bcurl\/(\d+)/, 'curl'],
]

const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bAndroid\b/, 'Android'],
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b/, 'Linux'],
]

/**
 * Parses a `User-Agent` into browser, OS and device type. A small table of our own rather than a dependency: the
 * permissively licensed parsers add far more than "my sessions" needs, and this one runs on every runtime core does.
 * @example parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) … Version/17.0 Mobile/15E148 Safari/604.1')
 * // → { browser: 'Safari 17', os: 'iOS', deviceType: 'mobile' }
 */
export function parseUserAgent(userAgent: string | null | undefined): UserAgentInfo {
  if (typeof userAgent !== 'string' || userAgent === '') return { browser: null, os: null, deviceType: null }
  const ua = userAgent.slice(0, MAX_USER_AGENT)
  let browser: string | null = null
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua)
    if (match) {
      browser = `${name} ${match[1]}`
      break
    }
  }
  const os = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1] ?? null
  let deviceType: UserAgentInfo['deviceType'] = null
  if (/bot\b|crawler|spider|curl\//i.test(ua)) deviceType = 'bot'
  else if (/\biPad\b|\bTablet\b/.test(ua) || (os === 'Android' && !/\bMobile\b/.test(ua)))
    deviceType = 'tablet'
  else if (/\bMobi|\biPhone\b|\biPod\b/.test(ua)) deviceType = 'mobile'
  else if (os !== null) deviceType = 'desktop'
  return { browser, os, deviceType }
}

/** The session metadata a request's hints give: `userAgent` and `ip`, each present only when valid. */
export function deviceMeta(hints: ClientHints, trust: TrustTest | null): Record<string, string> {
  const meta: Record<string, string> = {}
  const ua = hints.userAgent
  if (typeof ua === 'string' && ua !== '') meta.userAgent = ua.slice(0, MAX_USER_AGENT)
  const ip = clientAddress(hints, trust)
  if (ip !== undefined) meta.ip = ip
  return meta
}

/**
 * The client's address: the socket's peer, or, while that peer and each next hop is trusted, the address it
 * forwarded (right to left, as Express's `trust proxy` reads `X-Forwarded-For`). Undefined when the peer is unknown or
 * a hop is not an IP address. Canonical text form; IPv4-mapped IPv6 addresses are given as IPv4.
 */
export function clientAddress(hints: ClientHints, trust: TrustTest | null): string | undefined {
  let current = typeof hints.remoteAddress === 'string' ? parseIp(hints.remoteAddress) : null
  if (current === null) return undefined
  if (trust !== null) {
    const hops = forwardedHops(hints)
    for (let hop = 0; hop < hops.length && trust(current, hop); hop++) {
      const next = parseIp(hops[hops.length - 1 - hop]!)
      if (next === null) return undefined
      current = next
    }
  }
  return formatIp(current)
}

function joined(value: string | string[] | null | undefined): string {
  if (typeof value === 'string') return value
  return Array.isArray(value) ? value.join(',') : ''
}

/** The forwarded addresses, client first: from `Forwarded` (its `for=` parameters) when present, else `X-Forwarded-For`. */
function forwardedHops(hints: ClientHints): string[] {
  const forwarded = joined(hints.forwarded).slice(0, MAX_FORWARDED)
  if (forwarded !== '') {
    return forwarded
      .split(',')
      .slice(-MAX_HOPS)
      .map((element) => {
        const pair = element.split(';').find((p) => p.trim().toLowerCase().startsWith('for='))
        // `for=` missing, or `unknown`, or an obfuscated name: not an address, so the chain stops there.
        return pair === undefined ? '' : unquoteNode(pair.trim().slice(4))
      })
  }
  return joined(hints.forwardedFor)
    .slice(0, MAX_FORWARDED)
    .split(',')
    .slice(-MAX_HOPS)
    .map((s) => s.trim())
}

/** `"[2001:db8::1]:4711"` → `2001:db8::1`; `"192.0.2.1:80"` → `192.0.2.1`. */
function unquoteNode(node: string): string {
  let value = node.startsWith('"') && node.endsWith('"') ? node.slice(1, -1) : node
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']') >>> 0)
  const colon = value.indexOf(':')
  if (colon !== -1 && value.indexOf(':', colon + 1) === -1) value = value.slice(0, colon)
  return value
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; null for anything else (zones and ports included). */
export function parseIp(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null
  if (text.includes(':')) {
    const bytes = parseIpv6(text)
    if (bytes === null) return null
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
    return mapped ? bytes.slice(12) : bytes
  }
  return parseIpv4(text)
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  const bytes = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null
    bytes[i] = Number(part)
  }
  return bytes
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (half: string) => (half === '' ? [] : half.split(':'))
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  const words: number[] = []
  const read = (list: string[], out: number[]): boolean => {
    for (let i = 0; i < list.length; i++) {
      const group = list[i]!
      if (i === list.length - 1 && group.includes('.')) {
        const v4 = parseIpv4(group)
        if (v4 === null) return false
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) out.push(Number.parseInt(group, 16))
      else return false
    }
    return true
  }
  const tailWords: number[] = []
  // An embedded IPv4 address may end only the whole address.
  if (!read(head, words) || (halves.length === 2 && head.at(-1)?.includes('.')) || !read(tail, tailWords))
    return null
  const missing = 8 - words.length - tailWords.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  const all = [...words, ...new Array<number>(missing).fill(0), ...tailWords]
  const bytes = new Uint8Array(16)
  all.forEach((word, i) => {
    bytes[2 * i] = word >> 8
    bytes[2 * i + 1] = word & 0xff
  })
  return bytes
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.')
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!)
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) [best, bestLength] = [i, j - i]
    i = j
  }
  const hex = words.map((w) => w.toString(16))
  if (best === -1) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`
}

const NAMED_RANGES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

/**
 * Turns a {@link TrustProxy} into its test, or a message saying what is wrong with it. Ranges are addresses, CIDRs
 * (`10.0.0.0/8`, `fd00::/8`) or the names `loopback`, `linklocal` and `uniquelocal`, as in Express.
 */
export function trustTest(setting: TrustProxy): TrustTest | null | string {
  if (setting === false || setting === 0) return null
  if (setting === true) return () => true
  if (typeof setting === 'number') {
    if (!Number.isInteger(setting) || setting < 0 || setting > MAX_HOPS)
      return `a hop count is an integer from 0 to ${MAX_HOPS}`
    return (_ip, hop) => hop < setting
  }
  const ranges: Array<{ bytes: Uint8Array; bits: number }> = []
  for (const entry of setting.flatMap((e) => NAMED_RANGES[e.trim().toLowerCase()] ?? [e.trim()])) {
    const [address = '', prefix] = entry.split('/')
    const bytes = parseIp(address)
    if (bytes === null) return `"${entry.slice(0, 64)}" is not an IP address or CIDR range`
    // An IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps.
    const mappedShift = bytes.length === 4 && address.includes(':') ? 96 : 0
    const bits = prefix === undefined ? bytes.length * 8 : Number(prefix) - mappedShift
    if (!/^\d{1,3}$/.test(prefix ?? '0') || bits < 0 || bits > bytes.length * 8)
      return `"${entry.slice(0, 64)}" has a prefix length out of range`
    ranges.push({ bytes, bits })
  }
  if (ranges.length === 0) return null
  return (ip) => ranges.some((range) => inRange(ip, range.bytes, range.bits))
}

function inRange(ip: Uint8Array, base: Uint8Array, bits: number): boolean {
  if (ip.length !== base.length) return false
  const whole = bits >> 3
  for (let i = 0; i < whole; i++) if (ip[i] !== base[i]) return false
  const rest = bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (ip[whole]! & mask) === (base[whole]! & mask)
}
