import { CoreSDKError } from '@coresdk/core'
import { type AdapterKit, problemResponse } from '@coresdk/core/adapter'
import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common'
import { type AnyResponse, CoreSdkException, write } from './coresdk.adapter.ts'
import { CORESDK_KIT } from './coresdk.constants.ts'

/**
 * Answers a {@link CoreSdkException}, and a `CoreSDKError` thrown by a handler (the store down, a session unknown,
 * a logout that could not be written), with core's problem in the client's realm; `CoreSdkModule` registers it.
 */
@Catch(CoreSdkException, CoreSDKError)
export class CoreSdkExceptionFilter implements ExceptionFilter<CoreSdkException | CoreSDKError> {
  constructor(@Inject(CORESDK_KIT) private readonly kit: AdapterKit) {}

  catch(exception: CoreSdkException | CoreSDKError, host: ArgumentsHost): void {
    const problem = exception instanceof CoreSdkException ? exception.problem : this.kit.problemFor(exception)
    write(problemResponse(problem), undefined, host.switchToHttp().getResponse<AnyResponse>())
  }
}
