import type { Claims } from '@coresdk/core'
import { CoreSdkUser, Public, Roles } from '@coresdk/nestjs'
import { Controller, Get } from '@nestjs/common'

/** Routes checked by role. */
@Controller()
export class StaffController {
  @Roles('admin', 'support')
  @Get('api/staff')
  staff(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }

  @Roles({ allOf: ['admin', 'auditor'] })
  @Get('api/audit')
  audit(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }

  /** Under a public path and marked `@Public()`, yet checked: a route with roles is never public. */
  @Public()
  @Roles('admin')
  @Get('public/staff')
  publicStaff(@CoreSdkUser() user: Claims) {
    return { sub: user.sub }
  }
}
