import { MemorySessionStore } from '@coresdk/core'
import { describeSessionStore } from '../src/describe-session-store.ts'

describeSessionStore('MemorySessionStore', () => ({ store: new MemorySessionStore({ sweepInterval: 0 }) }))
