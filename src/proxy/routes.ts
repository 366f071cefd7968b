import type { Config } from '../config/types.js';
import type { Provider } from '../types.js';

// Maps a request path to its upstream. Longest prefix wins; a prefix matches
// on a path-segment boundary (/openai matches /openai/v1 but not /openaix).

export interface Route {
  readonly name: string;
  readonly prefix: string;
  readonly target: URL;
  readonly stripPrefix: boolean;
  readonly provider?: Provider;
  readonly direction: 'ingress' | 'egress';
  readonly preserveHost: boolean;
}

export interface RouteMatch {
  readonly route: Route;
  /** Path (with query) to request from the upstream, relative to the target's base path; origin-form, never a URL of its own. */
  readonly forwardPath: string;
}

/** The path a route's requests' paths are appended to: its upstream's path, without trailing slashes. */
export function basePathOf(route: Route): string {
  return route.target.pathname.replace(/\/+$/, '');
}

/**
 * The request target as a path: an absolute-form one (`GET http://host/x`)
 * becomes its path and query. The upstream is always the route's: a target
 * never names the host to connect to.
 */
function originForm(target: string): string {
  if (target[0] === '/' || target === '*') return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}

export class RouteTable {
  private readonly routes: readonly Route[];
  private readonly fallback: Route;

  constructor(config: Pick<Config, 'routes' | 'upstream' | 'direction' | 'proxy'>) {
    this.routes = config.routes
      .map((r): Route => {
        const target = new URL(r.upstream);
        return {
          name: r.name ?? r.prefix,
          prefix: r.prefix.replace(/\/+$/, '') || '/',
          target,
          stripPrefix: r.stripPrefix,
          provider: r.provider,
          direction: r.direction ?? config.direction,
          preserveHost: r.preserveHost ?? target.protocol === 'http:',
        };
      })
      .sort((a, b) => b.prefix.length - a.prefix.length);
    this.fallback = {
      name: 'default',
      prefix: '/',
      target: new URL(config.upstream),
      stripPrefix: false,
      direction: config.direction,
      preserveHost: config.proxy.preserveHost,
    };
  }

  get all(): readonly Route[] {
    return [...this.routes, this.fallback];
  }

  match(target: string): RouteMatch {
    const url = originForm(target);
    for (const route of this.routes) {
      const p = route.prefix;
      if (url.startsWith(p) && (url.length === p.length || url[p.length] === '/' || url[p.length] === '?' || p === '/')) {
        const rest = route.stripPrefix ? url.slice(p === '/' ? 0 : p.length) : url;
        return { route, forwardPath: rest === '' || rest[0] === '?' ? `/${rest}` : rest };
      }
    }
    return { route: this.fallback, forwardPath: url };
  }
}
