/**
 * Where each notification goes: the routes of the monitor configuration file
 * (monitor-config.ts) applied to the notifications a poll or the upstream
 * tracker makes. Pure. Each route is one outbox lane (the route's name is the
 * entry's destination), so a route whose webhook is revoked holds up only its
 * own messages.
 *
 * - An installation's alerts go to the first route whose match covers it
 *   (selectRoute); no match is the default route, SLACK_WEBHOOK_URL. A digest
 *   of one integration therefore splits into one per route when its
 *   installations go different ways.
 * - The monitor's own "cannot read Ampersand" messages go to the default route
 *   and to every route that could receive alerts of what cannot be read: an
 *   on-call engineer who gets only a route's alerts must know that the monitor
 *   is blind, or silence reads as "all is well". A route matching a provider
 *   or a group cannot be ruled out for an integration, so it gets them too.
 */
import type { AlertSubject } from './alert-subject.js';
import { DEFAULT_ROUTE_NAME, selectRoute, type Route } from './monitor-config.js';

/** A route as a notification needs it: its name (the outbox lane) and its mention, if any. */
export interface RouteChoice {
  readonly name: string;
  readonly mention: string | undefined;
}

/** The default route: SLACK_WEBHOOK_URL, without a mention. */
export const DEFAULT_ROUTE: RouteChoice = { name: DEFAULT_ROUTE_NAME, mention: undefined };

/** The route of one installation's alerts (the first route that matches, else the default one). */
export function routeOf(routes: readonly Route[], subject: AlertSubject): RouteChoice {
  const route = selectRoute(routes, subject);
  return route === undefined ? DEFAULT_ROUTE : { name: route.name, mention: route.mention };
}

/** Every outbox lane: the default one first, then one per route, in file order. */
export function laneNames(routes: readonly Route[]): string[] {
  return [DEFAULT_ROUTE_NAME, ...routes.map((r) => r.name)];
}

/**
 * The lanes of an upstream message about a project, or one of its
 * integrations: the default lane, then every route whose match does not rule
 * them out (its projectId and integrationId, when named, are theirs).
 */
export function upstreamLanes(routes: readonly Route[], projectId: string, integrationId: string | undefined): string[] {
  const covers = (route: Route): boolean =>
    (route.match.projectId === undefined || route.match.projectId === projectId) &&
    (integrationId === undefined || route.match.integrationId === undefined || route.match.integrationId === integrationId);
  return [DEFAULT_ROUTE_NAME, ...routes.filter(covers).map((r) => r.name)];
}

/**
 * Items grouped by their route, each group in the order of `items`, the groups
 * in the order of the lanes (default first, then the routes in file order) so
 * that the same poll always makes the same notification ids.
 */
export function groupByRoute<T>(routes: readonly Route[], items: readonly T[], subjectOf: (item: T) => AlertSubject): { route: RouteChoice; items: T[] }[] {
  const groups = new Map<string, { route: RouteChoice; items: T[] }>();
  for (const item of items) {
    const route = routeOf(routes, subjectOf(item));
    const group = groups.get(route.name) ?? { route, items: [] };
    group.items.push(item);
    groups.set(route.name, group);
  }
  const order = laneNames(routes);
  return [...groups.values()].sort((a, b) => order.indexOf(a.route.name) - order.indexOf(b.route.name));
}
