export type { LogoutOptions } from '@coresdk/core'
export { CoreSdkException } from './coresdk.adapter.ts'
export type { CoreSdkModuleOptions, CoreSdkRequest } from './coresdk.constants.ts'
export {
  CORESDK_CLIENT,
  CORESDK_KIT,
  CORESDK_MODULE_OPTIONS,
  CORESDK_PUBLIC,
  CORESDK_ROLES,
} from './coresdk.constants.ts'
export { CoreSdkSession, CoreSdkUser, Public, Roles } from './coresdk.decorators.ts'
export { CoreSdkExceptionFilter } from './coresdk.exception.ts'
export { CoreSdkGuard } from './coresdk.guard.ts'
export type { CoreSdkModuleAsyncOptions, CoreSdkModuleExtras } from './coresdk.module.ts'
export { CoreSdkModule } from './coresdk.module.ts'
export { CoreSdkService } from './coresdk.service.ts'
