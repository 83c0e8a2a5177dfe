// The pages by their hash name (#/NAME/params...).
export { overview } from './overview.js';
export { containers } from './containers.js';
export { c } from './container.js';
export { projects, p } from './projects.js';
export { images, networks, volumes, scan } from './resources.js';
export { events, audit } from './events.js';
