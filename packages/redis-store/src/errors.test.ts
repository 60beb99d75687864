import { CoreSDKError } from '@coresdk/core'
import { ReplyError } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { storeError } from './errors.ts'

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code })
}

describe('storeError', () => {
  it.each([
    ['a refused connection', socketError('ECONNREFUSED')],
    ['a reset connection', socketError('ECONNRESET')],
    ['a closed connection', new Error('Connection is closed.')],
    ['an ioredis command timeout', new Error('Command timed out')],
    [
      'a call while disconnected without an offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    ['a Cluster down', new ReplyError('CLUSTERDOWN The cluster is down')],
    [
      'redirections exhausted while the Cluster is down',
      new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down'),
    ],
    ['a server still loading its data', new ReplyError('LOADING Redis is loading the dataset in memory')],
    ['a replica during failover', new ReplyError("READONLY You can't write against a read only replica.")],
  ])('counts %s as unreachable', (_, error) => {
    expect(storeError(error)).toMatchObject({ code: 'store_unavailable', cause: error })
  })

  it.each([
    [
      'a key of another type',
      new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
    ],
    [
      'a script error',
      new ReplyError('ERR user_script:3: Script attempted to access nonexistent global variable'),
    ],
    ['a full server', new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")],
    ['a missing password', new ReplyError('NOAUTH Authentication required.')],
    ['a value JSON cannot encode', new TypeError('Do not know how to serialize a BigInt')],
    ['something that is not an Error', 'a string'],
  ])('fails closed on %s, with a fixed message', (_, error) => {
    const wrapped = storeError(error)
    expect(wrapped).toMatchObject({
      code: 'internal_error',
      message: 'A Redis session store operation failed.',
    })
  })

  it('keeps a CoreSDKError as it is', () => {
    const limit = new CoreSDKError('session_limit')
    expect(storeError(limit)).toBe(limit)
  })
})
