/**
 * The ports: what the jobs and the runtime need from the outside world, named
 * by role. Adapters implement them (src/adapters/), and the jobs import these
 * types, never an adapter module. Each port is small so that a job states
 * exactly what it uses, and an in-memory fake can implement it for tests.
 */
import type { Condition } from './core/alert-state.js';
import type { Episode } from './core/episodes.js';
import type { Notification } from './core/notification.js';
import type { OutboxEntry } from './core/outbox-entry.js';
import type { Snapshot } from './core/snapshot.js';
import type { UpstreamState } from './core/upstream-policy.js';
import type { AmpersandApiError, PollErrorReason } from './core/errors/ampersand-api-error.js';
import type { Transition } from './core/diff.js';

export type { OutboxEntry } from './core/outbox-entry.js';

/**
 * The logger is the one adapter every layer gets, so its type is a port: the
 * jobs take pino's Logger from here, which keeps them importing only the core
 * and the ports (the runtime makes it in src/logger.ts).
 */
export type { Logger } from 'pino';

// ---------------------------------------------------------------------------
// State stores: snapshots, the outbox, the upstream state, the init marker.
// One poll's snapshot and its notifications are committed together, so a crash
// never keeps one without the other; every commit is guarded by the version
// the caller loaded, so two replicas that polled the same data cannot both
// commit.
// ---------------------------------------------------------------------------

export interface StoredSnapshot {
  readonly integrationId: string;
  readonly version: number;
  /** Random id of this snapshot's history: a baseline starts a new one, so notification ids never repeat. */
  readonly lineage: string;
  readonly projectId: string;
  readonly lastSuccessMs: number;
  /** Undefined when the stored data could not be read; the next poll is then a baseline. */
  readonly snapshot: Snapshot | undefined;
  /**
   * The alert states of the integration's installations, as stored (core/alert-states.ts reads them);
   * absent when none are stored: the release before kept none, and loadAlertStates upgrades from the snapshot.
   */
  readonly alertStates?: string;
  /**
   * Set when the stored version or data could not be read. `storedVersion` is
   * the raw `v` to commit against: an unreadable version is overwritten by a
   * new baseline (version 1), still guarded so that only one replica does it.
   */
  readonly unreadable?: { readonly reason: string; readonly storedVersion: string };
}

/** One stored integration as loadChanged reads it. */
export interface StateReading {
  readonly integrationId: string;
  readonly projectId: string;
  readonly lastSuccessMs: number;
  /**
   * Names the stored snapshot and alert states: the same token, the same
   * content (the version and the poll times are not part of it). '' when it
   * cannot be told (a snapshot written by a release that kept no digest): ''
   * never counts as known.
   */
  readonly token: string;
  /** The stored snapshot and alert states, when the token is not the one the caller gave. */
  readonly changed: StoredSnapshot | undefined;
}

export interface CommitRequest {
  readonly integrationId: string;
  /** The version that was loaded (as stored, if it was unreadable), or undefined if there was none. */
  readonly expectedVersion: number | string | undefined;
  /**
   * The version to write, decided by the caller: the loaded version + 1, or 1
   * for a first snapshot or one that replaces unreadable state. The store only
   * checks `expectedVersion`; it does not compute versions.
   */
  readonly version: number;
  readonly lineage: string;
  readonly projectId: string;
  readonly snapshot: Snapshot;
  readonly nowMs: number;
  /** Appended to the outbox, in this order, in the same atomic step as the snapshot. */
  readonly outbox: readonly OutboxEntry[];
  /**
   * The encoded alert states, written in the same atomic step; undefined leaves the stored ones as they
   * are (the caller passes undefined when they did not change, so an unchanged poll does not rewrite them).
   */
  readonly alertStates?: string;
  /**
   * Episode logs to write in the same atomic step, by installation id: each replaces that
   * installation's log, and an empty one deletes it. The store also drops, a bounded number per
   * commit, the logs whose every episode ended more than 30 days ago (core/episodes.ts).
   */
  readonly episodes?: ReadonlyMap<string, readonly Episode[]>;
}

/** The head of one route's outbox lane. */
export interface LaneHead {
  readonly lane: string;
  readonly head: string;
}

/**
 * `version` is the one written (the upstream state's new revision); `outboxHead` the head of the default
 * route's lane after the commit, and `laneHeads`, present when the commit appended to other routes'
 * lanes, the head of each of those: the caller hands each head to its lane's delivery.
 */
export type CommitResult =
  | { readonly committed: true; readonly version: number; readonly outboxHead: string | undefined; readonly laneHeads?: readonly LaneHead[] }
  | { readonly committed: false };

/** One snapshot per integration. */
export interface SnapshotStore {
  load(integrationId: string): Promise<StoredSnapshot | undefined>;
  /** Writes the snapshot and appends its notifications to the outbox if the stored version is still `expectedVersion`. */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Every stored snapshot, for the status page and the CLI. */
  loadAll(): Promise<StoredSnapshot[]>;
  /**
   * Every stored integration for /metrics, with its snapshot and alert states
   * only where they changed: `known` maps an integration to the token of the
   * state the caller already has, and an integration whose token is still that
   * one comes without them. So a scrape of a replica reads from Redis only what
   * changed since its last scrape, however many installations there are.
   */
  loadChanged(known: ReadonlyMap<string, string>): Promise<StateReading[]>;
  /**
   * The episode logs of some installations of an integration (core/episodes.ts), oldest first,
   * with an entry for each id asked ([] when it has none); what cannot be read is left out. As
   * stored: a reader that shows them drops what is past the retention with pruneEpisodes(now).
   */
  loadEpisodes(integrationId: string, installationIds: readonly string[]): Promise<Map<string, Episode[]>>;
  /**
   * Drops the snapshots (and alert states and episode logs) of integrations that are not in `integrationIds` and
   * were not polled successfully since `cutoffMs`, and returns their ids: a
   * transiently empty discovery, or replicas with different lists during a
   * rolling deploy, forget nothing.
   */
  retain(integrationIds: readonly string[], cutoffMs: number): Promise<string[]>;
}

/** Tells a store that lost its data (Redis restarted without persistence) from one that has it. */
export interface InitMarker {
  /** True once per data set: false means the data was emptied since `markInitialised` ran. */
  isInitialised(): Promise<boolean>;
  markInitialised(nowMs: number): Promise<void>;
}

/** What the retry horizon of the outbox head needs to know about the channel, epoch ms. */
export interface ChannelTimes {
  /** The last message the channel accepted. */
  readonly lastSuccessMs: number | undefined;
  /** The last time a delivery found the channel broken (every time, not only when it broke). */
  readonly lastFaultMs: number | undefined;
}

/** The delivery channel's shared health (today the Slack webhook), and the number of dead letters. */
export interface ChannelStatus {
  /** undefined until a delivery succeeded or found the channel broken. */
  readonly up: boolean | undefined;
  readonly reason: string | undefined;
  /** When the channel went down, epoch ms. */
  readonly downSinceMs: number | undefined;
  readonly lastSuccessMs: number | undefined;
  readonly deadLetters: number;
}

export interface OutboxHead {
  readonly id: string;
  /** Undefined when the entry is missing or unreadable: the caller dead-letters the id rather than stall on it. */
  readonly entry: OutboxEntry | undefined;
  readonly channel: ChannelTimes;
}

/** What `Outbox.replayDeadLetters` did. */
export interface ReplayResult {
  /** The dead letters moved back to the outbox, in the order asked, each with its new outbox id. */
  readonly replayed: readonly { readonly id: string; readonly newId: string }[];
  /** Ids asked for that are not dead letters (never were, or trimmed since). */
  readonly missing: readonly string[];
  /** Dead letters asked for whose entry cannot be read: delivery would only dead-letter them again. */
  readonly unreadable: readonly string[];
}

export interface PopResult {
  /** False when `id` was no longer the head (another replica moved it). */
  readonly popped: boolean;
  /** The new head id. */
  readonly head: string | undefined;
  /** A delivered pop found the channel down before: it works again. */
  readonly recovered: boolean;
}

/**
 * The notifications waiting for delivery, delivered one at a time from the
 * head; the dead letters (refused, or given up on); and the delivery channel's
 * shared health, which decides when the head is retried. The commits that
 * append to it keep core/outbox-order.ts: high-priority entries go behind the
 * head and the high ones already waiting (but never before a waiting entry of
 * their own integration), the others at the tail; a waiting alert digest is
 * merged with the next one of its integration; past the cap, the oldest
 * low-priority entries are folded into a "dropped" notice. The head itself
 * never moves until it is popped.
 */
export interface Outbox {
  /** The head: its id, its entry, and the channel's last success and last fault for the retry horizon. */
  head(): Promise<OutboxHead | undefined>;
  /** Only the id of the head: what a caller needs to hand the head to delivery. */
  headId(): Promise<string | undefined>;
  size(): Promise<number>;
  /** Messages dropped ever because the outbox was full (SLACK_OUTBOX_MAX), shared by the replicas. */
  droppedTotal(): Promise<number>;
  /**
   * Removes `id` if it is still the head, moving it to the dead letters when
   * `dead` is set. A delivered one (`deliveredAtMs`) also marks the channel up
   * in the same atomic step. Every pop also trims the oldest dead letters
   * beyond the cap, a bounded number at a time, so a list of any length converges.
   */
  pop(id: string, dead: boolean, deliveredAtMs?: number): Promise<PopResult>;
  /** The readable dead letters, oldest first. */
  deadLetters(): Promise<OutboxEntry[]>;
  /**
   * Moves dead letters back to the tail of the outbox, in the order given, so
   * they are delivered again after what is already waiting. Each gets a new id
   * (`newId(id)`), written into its entry too: a delivery job is named after its
   * entry's id, and BullMQ would not add a job whose id it still keeps. Its
   * `enqueuedAt` becomes `nowMs`, so its retry horizon starts again. If any id
   * is missing or unreadable, nothing is moved and they are reported. Each
   * entry moves atomically (never lost, never in both places); a long list
   * moves a bounded chunk at a time, in order, each chunk whole or not at all,
   * so one that is trimmed meanwhile stops the move at its chunk, with the
   * chunks before it replayed (`replayed` lists exactly those).
   */
  replayDeadLetters(ids: readonly string[], nowMs: number, newId: (id: string) => string): Promise<ReplayResult>;
  /**
   * Marks the channel down with a (secret-free) reason and records `nowMs` as
   * its last fault, on every call; true if it was not down before.
   */
  markChannelDown(reason: string, nowMs: number): Promise<boolean>;
  channelStatus(): Promise<ChannelStatus>;
}

export interface StoredUpstream {
  /** Revision for compare-and-set; 0 when nothing is stored. */
  readonly rev: number;
  readonly state: UpstreamState;
}

/** The monitor's own access to Ampersand, one state per watched project, shared by the replicas. */
export interface UpstreamStore {
  /** The project's stored state, or the initial one when there is none or it cannot be read. */
  load(projectId: string): Promise<StoredUpstream>;
  /**
   * Stores the project's state and, atomically, the notification it causes (one entry per route lane it
   * goes to); not committed if `expectedRev` is stale.
   */
  commit(projectId: string, expectedRev: number, state: UpstreamState, entries: OutboxEntry | readonly OutboxEntry[] | undefined): Promise<CommitResult>;
}

// --- notifier port ---
// A Notifier delivers one notification to one destination (Slack, a log) and
// says how it went as data, so the delivery job stays channel-neutral: it
// keeps the outbox order, the retry horizon and the channel's shared health,
// while the adapter owns rendering, fallbacks and the meaning of the channel's
// answers. The outbox entry's `destination` picks the notifier.
// ---------------------------------------------------------------------------

/** Extra log fields about a channel's answer (e.g. Slack's HTTP status and error code); never a secret. */
export type SendDetails = Readonly<Record<string, unknown>>;

/**
 * The first form of the message was refused for what it holds, and a simpler
 * form (e.g. plain text) was sent instead; the result is the simpler form's.
 */
export interface SendFallback {
  /** The log line saying so, naming the refusal. */
  readonly message: string;
  readonly details: SendDetails;
}

interface SendReport {
  /** The text of the message as it was (last) sent, for the log lines of delivery. */
  readonly text: string;
  readonly fallback?: SendFallback;
}

export type SendResult =
  /** Delivered: `rendered` as made, as `plain_text` after a fallback, or only `logged` (no channel configured). */
  | (SendReport & { readonly status: 'sent'; readonly form: 'rendered' | 'plain_text' | 'logged' })
  /**
   * Not delivered this time; retried with backoff. `error` is what the queue
   * records (its message is secret-free). `channelDown`, when set, is the
   * reason the channel itself is broken (a revoked webhook, an archived
   * channel, a DNS or TLS failure): no message can pass until someone fixes
   * it, so delivery pauses with the head kept, the channel is marked down and
   * the head is retried with backoff for as long as it takes, never given up.
   * Without it, the failure is transient and counts towards the retry horizon.
   */
  | (SendReport & { readonly status: 'retry'; readonly error: Error; readonly details: SendDetails; readonly channelDown?: string })
  /** The channel asks to wait `retryAfterMs` before the next message. */
  | (SendReport & { readonly status: 'rate_limited'; readonly retryAfterMs: number; readonly details: SendDetails })
  /**
   * The channel refused this message for good (no retry can help): it goes to
   * the dead letters. `malformed` means the notification could not even be
   * made into a message, which the job reports as an unreadable entry.
   */
  | (SendReport & { readonly status: 'rejected'; readonly reason: string; readonly details: SendDetails; readonly malformed?: true });

/** How delivery names a channel in its log lines, e.g. "Slack" / "webhook" / "Check SLACK_WEBHOOK_URL and the channel." */
export interface NotifierWording {
  readonly service: string;
  readonly endpoint: string;
  /** What an operator should check when the channel is down. */
  readonly fixHint: string;
}

/** One delivery channel. `send` never throws for the channel's answer; a throw is a bug or an outage of the process itself. */
export interface Notifier {
  /** Where messages go, without any secret part, for logs and /readyz; `log` when alerts are only logged. */
  readonly target: string;
  readonly wording: NotifierWording;
  /** Sends one notification; `ref` (the outbox id) is shown in the message so an operator can find its entry. */
  send(notification: Notification, ref: string): Promise<SendResult>;
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

/** The time, passed in so that jobs and tests agree on it; the core takes `now` as an argument instead. */
export interface Clock {
  /** A plain function, not a method: jobs take it detached, as their `now` dependency. */
  readonly now: () => Date;
}

// ---------------------------------------------------------------------------
// Hand-offs between jobs (implemented by the runtime)
// ---------------------------------------------------------------------------

/**
 * The outbox hand-off: makes sure the outbox head has a delivery job. Callers
 * pass an id they read as the head (from a commit, a pop or LINDEX): the
 * outbox only inserts behind the head and pops the head, so such an entry
 * stays head until it is delivered, and its job, named after it, can never be
 * completed before that. Kicking the same head twice queues one job.
 */
export interface DeliveryQueue {
  /** `lane` is the route whose outbox lane `headId` heads; the default route's when absent. */
  kick(headId: string, lane?: string): Promise<void>;
}

/** An integration whose poll could not be queued, and why (a refused command, an id the queue cannot take). */
export interface PollNotQueued {
  readonly integrationId: string;
  readonly error: unknown;
}

/** One project's poll of AMPERSAND_LIST_MODE=project: one listing of the whole project, committed per integration. */
export interface ProjectPollRequest {
  readonly projectId: string;
  /** The integrations the cycle lists (configured or discovered), each committed even when the listing has none of its installations. */
  readonly integrationIds: readonly string[];
}

/** A project whose poll could not be queued, and why. */
export interface ProjectPollNotQueued {
  readonly projectId: string;
  readonly error: unknown;
}

/** Queues polls for the workers; a poll still queued or running for an integration is not doubled. */
export interface PollQueue {
  /**
   * Queues one poll per integration, all in one round trip, and resolves to
   * those that could not be queued, in the order given; the others are queued
   * (or were already queued or running). It does not reject for one
   * integration's failure, so one bad id never leaves the others unpolled.
   * `names`, the integration names the cycle knew, go with each poll into its messages.
   */
  enqueueAll(
    integrationIds: readonly string[],
    cycleId: string,
    names?: ReadonlyMap<string, string>,
    /** The project of each integration (several projects are watched); the job goes without one when absent. */
    projects?: ReadonlyMap<string, string>,
  ): Promise<readonly PollNotQueued[]>;
  /**
   * Queues one project poll per project (AMPERSAND_LIST_MODE=project), all in one round trip, and
   * resolves to those that could not be queued; a project poll still queued or running is not doubled.
   */
  enqueueProjects(requests: readonly ProjectPollRequest[], cycleId: string, names?: ReadonlyMap<string, string>): Promise<readonly ProjectPollNotQueued[]>;
}

/**
 * Told about every poll outcome, with the watched project it concerns (as configured); it tracks the
 * upstream's health per project (readiness, api_up, degraded alerts).
 */
export interface PollObserver {
  pollSucceeded(projectId: string, integrationId: string, cycleId: string): Promise<void>;
  pollFailed(projectId: string, integrationId: string, cycleId: string, error: AmpersandApiError): Promise<void>;
}

/** The poll observer, also told which integrations each cycle lists. */
export interface CycleObserver extends PollObserver {
  /**
   * Told the integrations a cycle lists for a project (after a discovery that succeeded, or
   * the configured ones): entries of integrations missing for forgetAfterMs are
   * dropped, and an open alert of one is resolved as "no longer monitored".
   */
  integrationsListed(projectId: string, integrationIds: readonly string[]): Promise<void>;
}

// --- outside-world ports: Ampersand and metrics ---

/** Which page of `listOperations` to read: the spec's query parameters. */
export interface OperationsPageRequest {
  /** Operations per page, an integer from 1 to 1000; the API's default is 200. */
  readonly pageSize?: number;
  /** The `pagination.nextPageToken` of the page before; none for the first page. */
  readonly pageToken?: string;
}

/** The Ampersand Platform API of one project as the jobs read it: raw JSON bodies, which the core parses. */
export interface AmpersandClient {
  /** `GET /projects/{project}/integrations/{id}/installations`; the JSON body, unvalidated. Fails with an AmpersandApiError. */
  listInstallations(integrationId: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * `GET /projects/{project}/installations` (listInstallationsForProject): every installation of the
   * project, across its integrations, in one unpaginated array; the JSON body, unvalidated. Fails with an AmpersandApiError.
   */
  listInstallationsForProject(signal?: AbortSignal): Promise<unknown>;
  /** `GET /projects/{project}/integrations`; the JSON body, unvalidated. Fails with an AmpersandApiError. */
  listIntegrations(signal?: AbortSignal): Promise<unknown>;
  /** `GET /providers` (listProviders): the catalog of providers keyed by name, unvalidated (read it with `providerNames`). Fails with an AmpersandApiError. */
  listProviders(signal?: AbortSignal): Promise<unknown>;
  /**
   * `GET /projects/{project}/integrations/{integrationId}/installations/{installationId}/operations`
   * with `pageSize` and `pageToken`: one page, `{ results, pagination }`, unvalidated
   * (parse it with `parseOperationsPage`). Fails with an AmpersandApiError (`not_found`
   * for an installation the API does not know); an id that cannot be a URL path
   * segment fails as `client_error` without a request.
   */
  listOperations(integrationId: string, installationId: string, page: OperationsPageRequest, signal?: AbortSignal): Promise<unknown>;
  /**
   * `GET /projects/{project}/operations/{operationId}/logs`: the operation's log
   * lines, unvalidated (parse them with `parseOperationLogs`). Fails with an
   * AmpersandApiError (`not_found` for an operation the API does not know).
   */
  getOperationLogs(operationId: string, signal?: AbortSignal): Promise<unknown>;
}

/**
 * The client of each watched project (its id and groupRef as configured). `undefined` for a
 * project that is not watched, such as the project of a job queued before the configuration changed.
 */
export interface AmpersandProjects<C = AmpersandClient> {
  forProject(projectId: string): C | undefined;
}

/** The `outcome` label of ampersand_slack_notifications_total. */
export type SlackOutcome = 'sent' | 'plain_text' | 'retried' | 'rate_limited' | 'paused' | 'rejected' | 'failed' | 'logged';

/** What the jobs and the runtime record; the Prometheus adapter exports it. */
export interface Metrics {
  /**
   * Brings the state series up to date from what loadChanged read (every stored integration,
   * the changed ones with their state), in slices that yield to the event loop; the series of
   * integrations no longer stored go, with this process's counters of them. Call before each scrape.
   */
  refreshFromState(readings: readonly StateReading[]): Promise<void>;
  /** The token of the state each integration's series were built from: loadChanged's `known`. */
  stateTokens(): ReadonlyMap<string, string>;
  observePoll(projectId: string, integrationId: string, seconds: number): void;
  recordPollError(projectId: string, integrationId: string, reason: PollErrorReason): void;
  recordTransitions(projectId: string, integrationId: string, transitions: readonly Transition[]): void;
  recordSlackNotification(outcome: SlackOutcome): void;
  setApiUp(projectId: string, up: boolean): void;
  /** Messages waiting in the outbox lane of `route` ("default" when absent: SLACK_WEBHOOK_URL). */
  setOutboxSize(size: number, route?: string): void;
  /** Sets the shared total of messages dropped because the outbox was full (Outbox.droppedTotal). Call before each scrape. */
  setOutboxDropped(total: number): void;
  /** A stored snapshot could not be read and is replaced by a new baseline. */
  recordStateUnreadable(projectId: string, integrationId: string): void;
  /**
   * A firing that a silence or a maintenance window kept from being sent, counted once when its poll committed;
   * `kind` is that of the first matching rule (silences before windows).
   */
  recordSilenced(projectId: string, integrationId: string, condition: Condition, kind: 'silence' | 'maintenance'): void;
  /**
   * Sets the webhook gauges of one route ("default" when absent: SLACK_WEBHOOK_URL) from the shared
   * state, labelled `route` (its name) and `target` (the webhook's host, never its secret path).
   * Call before each scrape, for every route.
   */
  setSlackStatus(status: ChannelStatus, target: string, route?: string): void;
}
