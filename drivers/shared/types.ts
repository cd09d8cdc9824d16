/**
 * The one interface every cloud driver implements (after libcloud's compute/base.py):
 * declared features, one normalized state enum with a per-driver map and an `unknown`
 * fallback, provider-only data kept in `extra`.
 */
import type { Logger } from 'pino';

export type InstanceState = 'pending' | 'running' | 'stopping' | 'terminated' | 'error' | 'unknown';
export const INSTANCE_STATES: readonly InstanceState[] = [
  'pending',
  'running',
  'stopping',
  'terminated',
  'error',
  'unknown',
];

export type DriverFeature =
  | 'userdata' // create() delivers user-data/context to the guest
  | 'tags' // create() labels instances and describe() returns the labels
  | 'capacity' // capacity() reports what the cloud can still host
  | 'flavors' // listFlavors() reflects the cloud's real flavors
  | 'images' // listImages() reflects the cloud's real images
  | 'runs-agent'; // instances run the instance agent (the context is applied for real)

export interface Flavor {
  id: string;
  name: string;
  cores: number;
  memoryMb: number;
  diskGb?: number;
  extra?: Record<string, unknown>;
}
export interface Image {
  id: string;
  name: string;
  extra?: Record<string, unknown>;
}

/** Labels every instance carries so that a restarted cloud agent can recognise its own. */
export interface InstanceTags {
  deployment: string;
  service: string;
  owner: string;
  [k: string]: string;
}

export interface CreateRequest {
  /** Unique name chosen by the caller; create() with a name that exists returns that instance (idempotent). */
  name: string;
  flavorId: string;
  imageId: string;
  /** Context document (amiconfig INI) handed to the guest the way this cloud hands user-data. */
  userData: string;
  tags: InstanceTags;
}

export interface Instance {
  id: string;
  name: string;
  state: InstanceState;
  /** The provider's own state word, before normalization. */
  providerState: string;
  flavorId?: string;
  imageId?: string;
  tags: Partial<InstanceTags> & Record<string, string>;
  addresses: string[];
  createdAt?: string;
  extra: Record<string, unknown>;
}

export interface Capacity {
  instances?: number;
  cores?: number;
  memoryMb?: number;
}

export interface CloudDriver {
  readonly name: string;
  readonly features: ReadonlySet<DriverFeature>;
  listFlavors(): Promise<Flavor[]>;
  listImages(): Promise<Image[]>;
  create(req: CreateRequest): Promise<Instance>;
  /** All instances this driver can see, or those with the given ids (missing ids are omitted). */
  describe(ids?: string[]): Promise<Instance[]>;
  /** Idempotent: terminating an unknown or already-terminated id succeeds. */
  terminate(id: string): Promise<void>;
  /** Free capacity, where the cloud can tell it (feature 'capacity'). */
  capacity?(): Promise<Capacity>;
  /** Releases connections and background work; instances keep running. */
  close(): Promise<void>;
}

export interface DriverContext {
  log: Logger;
  /**
   * Files of the cloud agent (its configuration, keys, database) that instances must not
   * be able to read: a driver whose instances run on this host refuses to start otherwise.
   */
  protectedFiles?: readonly string[];
}

/** Options are the driver's own INI section, already split into key/value strings. */
export type DriverFactory = (options: Readonly<Record<string, string>>, ctx: DriverContext) => Promise<CloudDriver>;

/**
 * The keys a driver's INI section may hold: plain keys, and `<prefix>.<id>` keys (e.g.
 * `image.cernvm-4`). Anything else is a configuration error naming file, section and key.
 */
export interface DriverOptionSpec {
  readonly keys: readonly string[];
  readonly prefixes: readonly string[];
  /** Keys whose values are credentials: never logged, echoed or stored. */
  readonly secrets: readonly string[];
}

/**
 * What the registry knows of a driver without loading it (its SDK or native binding stays
 * unloaded until `load`): its name, its options, and the features it can declare (an
 * instance may declare fewer, depending on its options).
 */
export interface DriverDescriptor {
  readonly name: string;
  readonly options: DriverOptionSpec;
  readonly features: readonly DriverFeature[];
  load(): Promise<DriverFactory>;
}
