import type { HttpProblem } from '@coresdk/core'
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common'
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

/** Answers a {@link CoreSdkException} with its problem as `application/problem+json`; `CoreSdkModule` registers it. */
@Catch(CoreSdkException)
export class CoreSdkExceptionFilter implements ExceptionFilter<CoreSdkException> {
  catch(exception: CoreSdkException, host: ArgumentsHost): void {
    writeProblem(host.switchToHttp().getResponse<AnyResponse>(), exception.problem)
  }
}
