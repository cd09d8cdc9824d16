/** Public face of the OpenStack test cloud harness. */
export { AdminClient, OpenStackApiError, type Endpoints } from './admin.js';
export { OpenStackCloud, missingPackages, type CloudInfo, type StartOptions } from './cloud.js';
export { PACKAGES } from './config.js';
export { testCloud, STATE_ENV, type TestCloud, type CloudState } from './shared.js';
export { testProject, applicationCredential, type TestProject, type NovaQuotas } from './projects.js';
export { simulateGuests, type SimulatedGuests, type GuestOptions } from './guests.js';
