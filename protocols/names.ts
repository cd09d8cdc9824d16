/**
 * Instance names, one rule for cluster definitions, the wire and the drivers. A cloud
 * knows an instance as `<deployment>-<service>-<n>`; that name becomes a directory name,
 * a libvirt domain name, an EC2 client token (at most 64 characters) and a host name (a
 * DNS label, RFC 1035: at most 63), so it is at most 63 characters of a safe set.
 */
export const INSTANCE_NAME_MAX = 63;
export const INSTANCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Room kept in an instance name for `<deployment>-` (the gateway's ids are 14 characters). */
export const DEPLOYMENT_ID_MAX = 16;
/** Room kept for `-<n>`: replacements keep counting, so up to 6 digits. */
export const INSTANCE_NUMBER_DIGITS = 6;
/** The longest service name whose instance names always fit. */
export const SERVICE_NAME_MAX = INSTANCE_NAME_MAX - DEPLOYMENT_ID_MAX - 1 - 1 - INSTANCE_NUMBER_DIGITS;

/** What is wrong with an instance name, or undefined when it is fine. */
export function instanceNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > INSTANCE_NAME_MAX || !INSTANCE_NAME_PATTERN.test(name)) {
    return `instance name ${JSON.stringify(name)} must be 1-${INSTANCE_NAME_MAX} characters of A-Z a-z 0-9 . _ - starting with a letter or digit`;
  }
  return undefined;
}

/** What is wrong with a service name for instance names, or undefined. */
export function serviceNameProblem(name: string): string | undefined {
  if (name.length > SERVICE_NAME_MAX) {
    return `service name longer than ${SERVICE_NAME_MAX} characters (${name.length}): its instance names <deployment>-<service>-<n> must fit in ${INSTANCE_NAME_MAX}`;
  }
  return undefined;
}
