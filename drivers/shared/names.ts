/** Checks shared by every driver, and a small per-key mutex for idempotent create(). */
import { instanceNameProblem } from '../../protocols/index.js';
import { CloudError } from './errors.js';
import type { CreateRequest, Flavor, Image } from './types.js';

export function checkRequest(
  req: CreateRequest,
  flavors: readonly Flavor[],
  images: readonly Image[],
): { flavor: Flavor; image: Image } {
  // Instance names become directory names (local, config drives), libvirt domain names
  // and EC2 client tokens: one rule for all, the wire's (protocols/names.ts).
  const problem = typeof req.name === 'string' ? instanceNameProblem(req.name) : 'instance name must be a string';
  if (problem) throw new CloudError('invalid', problem);
  if (typeof req.userData !== 'string') throw new CloudError('invalid', 'userData must be a string');
  for (const k of ['deployment', 'service', 'owner'] as const) {
    if (typeof req.tags?.[k] !== 'string') throw new CloudError('invalid', `tag "${k}" is required`);
  }
  const flavor = flavors.find((f) => f.id === req.flavorId);
  if (!flavor)
    throw new CloudError('invalid', `unknown flavor "${req.flavorId}" (known: ${flavors.map((f) => f.id).join(', ')})`);
  const image = images.find((i) => i.id === req.imageId);
  if (!image)
    throw new CloudError('invalid', `unknown image "${req.imageId}" (known: ${images.map((i) => i.id).join(', ')})`);
  return { flavor, image };
}

/** Runs tasks with the same key one after another (two create() calls for one name must not race). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
