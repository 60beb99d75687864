import { CoreSDKClient, CoreSDKError } from '@coresdk/core'
import { createAdapterKit } from '@coresdk/core/adapter'
import {
  type DynamicModule,
  Global,
  Inject,
  type InjectionToken,
  Module,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
  type Provider,
} from '@nestjs/common'
import { APP_FILTER, APP_GUARD } from '@nestjs/core'
import {
  CORESDK_CLIENT,
  CORESDK_KIT,
  CORESDK_MODULE_OPTIONS,
  type CoreSdkModuleOptions,
} from './coresdk.constants.ts'
import { CoreSdkExceptionFilter } from './coresdk.exception.ts'
import { CoreSdkGuard } from './coresdk.guard.ts'
import { CoreSdkService } from './coresdk.service.ts'

/** Module-level switches that must be known before the options are. */
export interface CoreSdkModuleExtras {
  /** Register `CoreSdkGuard` as a global guard (`APP_GUARD`): every route is protected unless `@Public()`. @default false */
  globalGuard?: boolean
}

/** What `CoreSdkModule.forRootAsync()` takes. */
export interface CoreSdkModuleAsyncOptions extends CoreSdkModuleExtras, Pick<ModuleMetadata, 'imports'> {
  /** Builds the options, e.g. from `ConfigService`. */
  useFactory: (...args: never[]) => CoreSdkModuleOptions | Promise<CoreSdkModuleOptions>
  /** What `useFactory` receives. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>
}

function clientFrom(options: CoreSdkModuleOptions): CoreSDKClient {
  if (options.sdk) return options.sdk
  if (options.config) return new CoreSDKClient(options.config)
  throw new CoreSDKError('invalid_config', 'CoreSDK: CoreSdkModule needs { sdk } or { config }.')
}

/**
 * Provides a `CoreSDKClient` under {@link CORESDK_CLIENT}, `CoreSdkGuard`, `CoreSdkService` and the filter that
 * answers refused requests with core's problem. Global: import it once, in the root module.
 * @example
 * ```ts
 * @Module({ imports: [CoreSdkModule.forRoot({ sdk, publicPaths: ['/health'], globalGuard: true })] })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({})
export class CoreSdkModule implements OnApplicationShutdown {
  constructor(
    @Inject(CORESDK_MODULE_OPTIONS) private readonly options: CoreSdkModuleOptions,
    @Inject(CORESDK_CLIENT) private readonly sdk: CoreSDKClient,
  ) {}

  /** Configures the module with a client (`{ sdk }`) or a configuration (`{ config }`). */
  static forRoot(options: CoreSdkModuleOptions & CoreSdkModuleExtras): DynamicModule {
    return CoreSdkModule.build([{ provide: CORESDK_MODULE_OPTIONS, useValue: options }], [], options)
  }

  /** Configures the module from a factory, e.g. one that reads `ConfigService`. */
  static forRootAsync(options: CoreSdkModuleAsyncOptions): DynamicModule {
    const provider: Provider = {
      provide: CORESDK_MODULE_OPTIONS,
      useFactory: options.useFactory,
      inject: options.inject ?? [],
    }
    return CoreSdkModule.build([provider], options.imports ?? [], options)
  }

  private static build(
    optionProviders: Provider[],
    imports: NonNullable<ModuleMetadata['imports']>,
    extras: CoreSdkModuleExtras,
  ): DynamicModule {
    const providers: Provider[] = [
      ...optionProviders,
      { provide: CORESDK_CLIENT, useFactory: clientFrom, inject: [CORESDK_MODULE_OPTIONS] },
      {
        provide: CORESDK_KIT,
        useFactory: createAdapterKit,
        inject: [CORESDK_CLIENT, CORESDK_MODULE_OPTIONS],
      },
      CoreSdkGuard,
      CoreSdkService,
      { provide: APP_FILTER, useClass: CoreSdkExceptionFilter },
    ]
    if (extras.globalGuard) providers.push({ provide: APP_GUARD, useClass: CoreSdkGuard })
    return {
      module: CoreSdkModule,
      imports,
      providers,
      exports: [CORESDK_CLIENT, CORESDK_KIT, CORESDK_MODULE_OPTIONS, CoreSdkGuard, CoreSdkService],
    }
  }

  /** Closes the client the module built from `config`; a client you passed stays yours to close. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.options.sdk) await this.sdk.close()
  }
}
