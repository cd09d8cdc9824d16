export { EjabberdServer, type ServerOptions, type ServerInfo } from './server.js';
export { renderConfig, PEOPLE_LIMITS, type RenderOptions, type ComponentSpec, type HostSpec } from './config.js';
export { EjabberdError } from './errors.js';
export { freePort, portInUse, canConnect, listenerOwnedBy } from './ports.js';
export { parsePeer, type PeerNode } from './cluster.js';
export { makeCertificate } from './files.js';
