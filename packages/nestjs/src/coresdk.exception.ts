import { type CoreSDKClient, CoreSDKError, type HttpProblem } from '@coresdk/core'
import { problemFromError } from '@coresdk/core/adapter'
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common'
import { CORESDK_CLIENT } from './coresdk.constants.ts'
import { type AnyResponse, writeProblem } from './coresdk.response.ts'

/** A refused request: carries core's problem so the filter answers with exactly its status, headers and body. */
export class CoreSdkException extends HttpException {
  /** The problem core built for this request. */
  readonly problem: HttpProblem

  constructor(problem: HttpProblem) {
    super(problem.body, problem.status)
    this.problem = problem
  }
}

/**
 * Answers a {@link CoreSdkException}, and a `CoreSDKError` thrown by a handler (the store down, a session unknown,
 * a logout that could not be written), with core's problem as `application/problem+json`, in the client's realm;
 * `CoreSdkModule` registers it.
 */
@Catch(CoreSdkException, CoreSDKError)
export class CoreSdkExceptionFilter implements ExceptionFilter<CoreSdkException | CoreSDKError> {
  constructor(@Inject(CORESDK_CLIENT) private readonly sdk: CoreSDKClient) {}

  catch(exception: CoreSdkException | CoreSDKError, host: ArgumentsHost): void {
    const problem =
      exception instanceof CoreSdkException
        ? exception.problem
        : problemFromError(exception, { realm: this.sdk.config.serviceName })
    writeProblem(host.switchToHttp().getResponse<AnyResponse>(), problem)
  }
}
