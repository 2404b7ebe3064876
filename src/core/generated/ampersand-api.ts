/**
 * GENERATED FILE, do not edit. Types of the Ampersand Platform API, rendered by
 * openapi-typescript from spec/ampersand-api.bundled.json (see spec/SOURCE.md).
 * To change them, refresh the spec and run `npm run generate:api`
 * (scripts/generate-ampersand-api.ts); test/spec/generated-types.test.ts fails
 * when this file is stale. Types only: it emits no code.
 */

export interface paths {
    readonly "/oauth-connect": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /**
         * Generate OAuth authorization URL
         * @description Generate a URL for the browser to render to kick off OAuth flow. You can use this endpoint as an alternative to the [prebuilt UI components](https://docs.withampersand.com/embeddable-ui-components).
         */
        readonly post: operations["oauthConnect"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/custom-auth/connect": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /**
         * Start or continue a multi-step custom auth flow
         * @description Drives a multi-step custom auth flow (browser redirects and/or server-side credential-exchange calls). Call it once with the flow inputs to start; if the response contains a redirect, open it, then call again with the returned sessionId and the provider's callback params to continue. Repeat until the response contains a connection. Used by the prebuilt UI components; only providers whose ProviderInfo has customOpts.multiStep present can use this endpoint.
         */
        readonly post: operations["customAuthConnect"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/connections/{connectionId}:oauth-update": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        /**
         * Generate OAuth authorization URL for existing connection
         * @description Generate a URL for the browser to render to kick off an OAuth flow that updates an existing connection. Use this when the connection's credentials need to be refreshed. To start an OAuth flow without specifying a connection ID, use the [/oauth-connect endpoint](https://docs.withampersand.com/reference/oauth/generate-oauth-authorization-url) instead.
         */
        readonly patch: operations["oauthUpdate"];
        readonly trace?: never;
    };
    readonly "/projects": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List projects
         * @description Lists projects your credentials can access.
         */
        readonly get: operations["listProjects"];
        readonly put?: never;
        /**
         * Create a new project
         * @description Creates a new project within an organization. A project is a container for provider apps, integrations, and connections.
         */
        readonly post: operations["createProject"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get a project
         * @description Get a project by its ID or name.
         */
        readonly get: operations["getProject"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        /**
         * Update a project
         * @description Update a project's mutable fields using field masks. Currently, the updatable fields are `appName` (the display name shown to end users) and `name` (the unique project identifier).
         */
        readonly patch: operations["updateProject"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/provider-apps": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List provider apps */
        readonly get: operations["listProviderApps"];
        readonly put?: never;
        /** Create a new provider app */
        readonly post: operations["createProviderApp"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/provider-apps/{providerAppId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        /** Delete a provider app. */
        readonly delete: operations["deleteProviderApp"];
        readonly options?: never;
        readonly head?: never;
        /** Update a provider app */
        readonly patch: operations["updateProviderApp"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List integrations */
        readonly get: operations["listIntegrations"];
        readonly put?: never;
        /** Create a new integration. */
        readonly post: operations["createIntegration"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationIdOrName}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get an integration by ID or name */
        readonly get: operations["getIntegration"];
        readonly put?: never;
        readonly post?: never;
        /**
         * Delete an integration
         * @description Delete an integration and all its installations.
         */
        readonly delete: operations["deleteIntegration"];
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations:batch": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        /**
         * Batch upsert a group of integrations
         * @description This endpoint is used by the Ampersand CLI to batch upsert integrations. We recommend using the [CLI's deploy command](https://docs.withampersand.com/cli/overview#deploy-integrations) rather than this API endpoint directly.
         */
        readonly put: operations["batchUpsertIntegrations"];
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/revisions": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /**
         * Create a new revision.
         * @description We recommend using the [CLI's deploy command](https://docs.withampersand.com/cli/overview#deploy-integrations) rather than this API endpoint directly, unless you have an advanced use case.
         */
        readonly post: operations["createRevision"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/revisions/{revisionId}:hydrate": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get a hydrated revision
         * @description Returns the integration revision enriched with live field metadata from the consumer's connected SaaS instance, such as available fields, display names, and type for each object defined in the integration.
         */
        readonly get: operations["getHydratedRevision"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/installations": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List installations for an integration
         * @description Lists all installations for a specific integration within a project. To list installations across all integrations, use listInstallationsForProject instead.
         */
        readonly get: operations["listInstallations"];
        readonly put?: never;
        /**
         * Create a new installation
         * @description Install an integration for a specific group. The group must already have a SaaS connection — either provide its `connectionId`, or omit it to use the group's default. To create a connection, use the [OAuth Connect endpoint](https://docs.withampersand.com/reference/oauth/generate-oauth-authorization-url) or the [prebuilt UI components](https://docs.withampersand.com/embeddable-ui-components).
         */
        readonly post: operations["createInstallation"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/installations/{installationId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get an installation
         * @description Retrieves a single installation by ID, including its connection details, config, and health status.
         */
        readonly get: operations["getInstallation"];
        readonly put?: never;
        readonly post?: never;
        /**
         * Delete an installation
         * @description Delete an Installation. This will also delete the associated Connection if it is not used by any other Installations.
         */
        readonly delete: operations["deleteInstallation"];
        readonly options?: never;
        readonly head?: never;
        /**
         * Update an installation
         * @description Update an installation using field masks. Note: subscribe config changes trigger a subscription change in the provider's system, which typically takes 1-2 minutes but may take up to 10 minutes.
         */
        readonly patch: operations["updateInstallation"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/objects/{objectName}/config-content": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        /**
         * Update an installation object
         * @description Updates a single object's configuration within an installation using JSON Patch syntax.
         */
        readonly patch: operations["patchObjectConfigContent"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/objects/{objectName}/metadata": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get object metadata via installation
         * @description Retrieves metadata about an object in a customer's SaaS instance, including its fields. An installation must exist for the given `groupRef` and `integrationId`. The `objectName` can be either the mapped name from your integration config or the native provider name. For Salesforce, nested fields may be included using JSONPath bracket notation (e.g. `$['billingaddress']['city']`).
         */
        readonly get: operations["getObjectMetadataForInstallation"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/installations": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List installations for a project
         * @description Lists all installations across every integration in a project, giving you a complete view of all active customer integrations. To narrow results to a single integration, use listInstallations instead.
         */
        readonly get: operations["listInstallationsForProject"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/providers/{provider}/objects/{objectName}/metadata": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get object metadata via connection
         * @description Retrieves metadata about an object in a customer's SaaS instance, including its fields. A connection must exist for the given `groupRef` and `provider`. For Salesforce, nested fields may be included using JSONPath bracket notation (e.g. `$['billingaddress']['city']`).
         */
        readonly get: operations["getObjectMetadataForConnection"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/object-metadata": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        /**
         * Upsert custom fields for installation
         * @description Create or update fields in the SaaS instance tied to an installation. Only HubSpot and Salesforce are supported currently.
         */
        readonly put: operations["upsertMetadataForInstallation"];
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/providers/{provider}/object-metadata": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        /**
         * Upsert custom fields for connection
         * @description Create or update fields in the SaaS instance tied to a connection. Only HubSpot and Salesforce are supported currently.
         */
        readonly put: operations["upsertMetadataForConnection"];
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/installations/{installationId}/operations": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List operations */
        readonly get: operations["listOperations"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/integrations/{integrationId}/installations/{installationId}/objects/{objectName}/backfill-progress": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get backfill progress
         * @description Retrieve backfill progress (records processed, estimated total) for an object. Use to track progress of an initial data sync.
         */
        readonly get: operations["getBackfillProgress"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/operations/{operationId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get an operation
         * @description Retrieve a single operation by ID. An operation represents an async read, write, or subscribe action for an installation. Use this endpoint to poll for status, inspect the result summary, or fetch metadata such as read progress or write outcome details.
         */
        readonly get: operations["getOperation"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/operations/{operationId}/logs": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List logs for an operation */
        readonly get: operations["listOperationLogs"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/providers": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List providers
         * @description Returns all supported SaaS providers and their capabilities. The response is a JSON object keyed by provider name (e.g. `salesforce`, `hubspot`). Each value describes the provider's authentication type, supported operations, modules, and configuration options. No authentication is required.
         */
        readonly get: operations["listProviders"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/providers/{provider}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get provider
         * @description Returns information about a single provider. No authentication is required.
         */
        readonly get: operations["getProvider"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/api-keys": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List API keys */
        readonly get: operations["listApiKeys"];
        readonly put?: never;
        /** Create a new API key */
        readonly post: operations["createApiKey"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/api-keys/{apiKey}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get an API key */
        readonly get: operations["getApiKey"];
        readonly put?: never;
        readonly post?: never;
        /** Delete an API key */
        readonly delete: operations["deleteApiKey"];
        readonly options?: never;
        readonly head?: never;
        /** Update an API key */
        readonly patch: operations["updateApiKey"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/connections": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List connections */
        readonly get: operations["listConnections"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/connections:generate": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /**
         * Generate a new connection
         * @description All auth schemes are supported, but for OAuth2 Authorization Code, it is recommended that you use the [/oauth-connect endpoint](https://docs.withampersand.com/reference/oauth/get-url-for-oauth-flow) instead, unless you already have the refresh token and are importing it into Ampersand.
         */
        readonly post: operations["generateConnection"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/connections/{connectionId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get a connection */
        readonly get: operations["getConnection"];
        readonly put?: never;
        readonly post?: never;
        /** Delete a connection */
        readonly delete: operations["deleteConnection"];
        readonly options?: never;
        readonly head?: never;
        /**
         * Update a connection.
         * @description Rotate credentials or update metadata (such as the provider workspace reference) for an existing connection.
         */
        readonly patch: operations["updateConnection"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/destinations": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List destinations */
        readonly get: operations["listDestinations"];
        readonly put?: never;
        /** Create a new destination */
        readonly post: operations["createDestination"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/destinations/{destination}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get a destination */
        readonly get: operations["getDestination"];
        readonly put?: never;
        readonly post?: never;
        /** Delete a destination */
        readonly delete: operations["deleteDestination"];
        readonly options?: never;
        readonly head?: never;
        /** Update a destination */
        readonly patch: operations["updateDestination"];
        readonly trace?: never;
    };
    readonly "/generate-upload-url": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Generate a signed URL to upload a zip file to. */
        readonly get: operations["generateUploadUrl"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /** Create a new organization */
        readonly post: operations["createOrg"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get an organization */
        readonly get: operations["getOrg"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        /** Update an organization */
        readonly patch: operations["updateOrg"];
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/builders": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List builders for an organization */
        readonly get: operations["listOrgBuilders"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/invites": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List invites for an organization */
        readonly get: operations["listOrgInvites"];
        readonly put?: never;
        /** Invite a user to an organization */
        readonly post: operations["createOrgInvite"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/invites/{inviteId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get an invite */
        readonly get: operations["getOrgInvite"];
        readonly put?: never;
        readonly post?: never;
        /** Revoke an invite */
        readonly delete: operations["deleteOrgInvite"];
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/memberships": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /**
         * Add user to an organization
         * @description Adds a builder to an organization. Two authorization modes - Org owner inviting another user, or self-joining via claimed domain (authenticated user's email domain should be claimed by this organization).
         */
        readonly post: operations["addUserToOrg"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/my-info": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get information about the current user */
        readonly get: operations["getMyInfo"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/invites:accept": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /** Accept an invite */
        readonly post: operations["acceptInvite"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/billingAccount": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** Get the billing account for an organization */
        readonly get: operations["getOrgBillingAccount"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/billingAccounts/{billingAccountId}/portalSession": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        /** Create a portal session for a billing account */
        readonly post: operations["createBillingAccountSession"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/topics": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List topics */
        readonly get: operations["listTopics"];
        readonly put?: never;
        /** Create a topic */
        readonly post: operations["createTopic"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/topics/{topicId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        /** Delete a topic */
        readonly delete: operations["deleteTopic"];
        readonly options?: never;
        readonly head?: never;
        /** Update a topic */
        readonly patch: operations["updateTopic"];
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/notification-event-topic-routes": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List notification event-topic routes */
        readonly get: operations["listEventTopicRoutes"];
        readonly put?: never;
        /** Create a notification event-topic route */
        readonly post: operations["createEventTopicRoute"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/notification-event-topic-routes/{routeId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        /** Delete a notification event-topic route */
        readonly delete: operations["deleteEventTopicRoute"];
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/topic-destination-routes": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /** List topic destination routes */
        readonly get: operations["listTopicDestinationRoutes"];
        readonly put?: never;
        /** Create a topic destination route */
        readonly post: operations["createTopicDestinationRoute"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/topic-destination-routes/{routeId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly get?: never;
        readonly put?: never;
        readonly post?: never;
        /** Delete a topic destination route */
        readonly delete: operations["deleteTopicDestinationRoute"];
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/jwt-keys": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List JWT keys
         * @description Retrieves all JWT keys for the specified project, with optional filtering for active keys only
         */
        readonly get: operations["listJWTKeys"];
        readonly put?: never;
        /**
         * Create a new JWT key
         * @description Creates a new JWT key for the specified project with RSA public key for token verification
         */
        readonly post: operations["createJWTKey"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/projects/{projectIdOrName}/jwt-keys/{keyId}": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Get a specific JWT key
         * @description Retrieves a specific JWT key by its ID within the specified project
         */
        readonly get: operations["getJWTKey"];
        readonly put?: never;
        readonly post?: never;
        /**
         * Delete a JWT key
         * @description Permanently deletes a JWT key from the specified project
         */
        readonly delete: operations["deleteJWTKey"];
        readonly options?: never;
        readonly head?: never;
        /**
         * Update a JWT key
         * @description Updates specific fields of a JWT key using field masks. Currently supports updating the 'active' status and 'name' field.
         */
        readonly patch: operations["updateJWTKey"];
        readonly trace?: never;
    };
    readonly "/claimed-domains": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * Check if a domain is claimed
         * @description Returns claimed domain information if authenticated user is an owner of the organization that claimed the domain, or if the user's email domain matches the claimed domain.
         */
        readonly get: operations["checkClaimedDomain"];
        readonly put?: never;
        /**
         * Claim a domain
         * @description Claim a domain for an organization. Accepts email, domain, or URL.
         */
        readonly post: operations["claimDomain"];
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
    readonly "/orgs/{orgId}/claimed-domains": {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        /**
         * List organization's claimed domains
         * @description Get all domains claimed by a specific organization
         */
        readonly get: operations["listOrgClaimedDomains"];
        readonly put?: never;
        readonly post?: never;
        readonly delete?: never;
        readonly options?: never;
        readonly head?: never;
        readonly patch?: never;
        readonly trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * Custom Auth Connect Request
         * @description Request body for the /custom-auth/connect endpoint. The first call supplies the flow inputs; subsequent calls supply sessionId and callbackParams to resume after a redirect.
         */
        readonly CustomAuthConnectRequest: {
            /**
             * @description The Ampersand project ID or project name. Required on the first call.
             * @example my-project
             */
            readonly projectIdOrName: string;
            /**
             * @description The provider that this app connects to. Required on the first call (when sessionId is not present); ignored on resume calls. Conditional requirement is enforced at the application layer.
             * @example bill
             */
            readonly provider?: string;
            /**
             * @description Your application's identifier for the organization or workspace that this connection belongs to. Supplied on the first call; ignored on resume calls (the parked flow's identity is used).
             * @example group-123
             */
            readonly groupRef?: string;
            /**
             * @description The display name for the group. Defaults to groupRef if not provided. Supplied on the first call; ignored on resume calls.
             * @example Organization Name
             */
            readonly groupName?: string;
            /**
             * @description The ID that your app uses to identify the user whose SaaS credential will be used. Supplied on the first call; ignored on resume calls (the parked flow's identity is used).
             * @example user_123456
             */
            readonly consumerRef?: string;
            /**
             * @description The display name for the consumer. Defaults to consumerRef if not provided. Supplied on the first call; ignored on resume calls.
             * @example John Doe
             */
            readonly consumerName?: string;
            /** @description Additional provider-specific metadata collected from the user. */
            readonly providerMetadata?: components["schemas"]["ProviderMetadata"];
            /**
             * @description ID of the provider app. If omitted, the default provider app set up on the Dashboard is assumed.
             * @example 32356abe-d2fd-49c7-9030-abdcbc6456d4
             */
            readonly providerAppId?: string;
            /**
             * @description The consumer-supplied custom auth inputs (keyed by CustomAuthInput.name). Supplied on the first call (when sessionId is not present).
             * @example {
             *       "userName": "admin@acme.com",
             *       "password": "hunter2"
             *     }
             */
            readonly customAuth?: {
                readonly [key: string]: unknown;
            };
            /**
             * @description Identifies an in-progress flow to resume after a redirect. Returned in a prior redirect response. When present, provider and customAuth are not required.
             * @example 7f3c1e2a-9b0d-4a1f-8c2e-1d2f3a4b5c6d
             */
            readonly sessionId?: string;
            /**
             * @description The query/body params the provider sent to the callback, forwarded to resume the flow.
             * @example {
             *       "tenant": "9e1477fd-54ef-41fe-b747-bc9e6a11a925"
             *     }
             */
            readonly callbackParams?: {
                readonly [key: string]: string;
            };
        };
        /**
         * Custom Auth Connect Response
         * @description Response from /custom-auth/connect. Exactly one of redirect or connection is set. A redirect means the client should open the URL and call again with sessionId + callbackParams; a connection means the flow is complete.
         */
        readonly CustomAuthConnectResponse: {
            readonly redirect: components["schemas"]["RedirectResponse"];
        } | {
            readonly connection: components["schemas"]["Connection"];
        };
        /**
         * Redirect Response
         * @description Instructs the client to open a URL (e.g. in a popup) to continue a custom auth flow, then resume by calling /custom-auth/connect with the sessionId.
         */
        readonly RedirectResponse: {
            /**
             * @description The URL the client should open to continue the flow.
             * @example https://login.microsoftonline.com/common/adminconsent?client_id=xxx
             */
            readonly url: string;
            /**
             * @description The flow identifier to pass back to /custom-auth/connect once the provider redirects to the callback.
             * @example 7f3c1e2a-9b0d-4a1f-8c2e-1d2f3a4b5c6d
             */
            readonly sessionId: string;
        };
        /** Organization */
        readonly Org: {
            /**
             * @description The organization ID.
             * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
             */
            readonly id: string;
            /**
             * @description The organization label.
             * @example Acme Inc
             */
            readonly label: string;
            /** @description The ID of the Everyone team for the org. */
            readonly defaultTeamId: string;
            /**
             * Format: date-time
             * @description The time at which the organization was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the organization was updated.
             */
            readonly updateTime?: string;
        };
        /** Destination */
        readonly Destination: {
            /** @description The destination ID. */
            readonly id: string;
            /**
             * @description User-defined name for the destination.
             * @example leadConvertedWebhook
             */
            readonly name: string;
            /**
             * @description The type of the destination.
             * @example webhook
             */
            readonly type: string;
            readonly metadata: {
                /**
                 * @description Webhook URL
                 * @example https://webhooks.mailmonkey.com/salesforce-lead-converted
                 */
                readonly url?: string;
                readonly headers?: components["schemas"]["WebhookHeaders"];
                /**
                 * @description The name of the Kinesis stream
                 * @example my-data-stream
                 */
                readonly streamName?: string;
                /**
                 * @description The AWS region for the destination
                 * @example us-east-1
                 */
                readonly region?: string;
                /**
                 * @description Template for generating partition keys
                 * @example {{.integration_id}}
                 */
                readonly partitionKeyTemplate?: string;
                /**
                 * @description The name of the S3 bucket
                 * @example ampersand-integration-bucket
                 */
                readonly bucket?: string;
                /**
                 * @description JMESPath template for generating S3 object keys
                 * @example join('/', [metadata.objectName, metadata.operationId])
                 */
                readonly keyTemplate?: string;
                /**
                 * @description The S3 storage class for written objects (defaults to STANDARD)
                 * @example STANDARD
                 */
                readonly storageClass?: string;
                /**
                 * @description The username for the clickhouse destination
                 * @example default
                 */
                readonly username?: string;
                /**
                 * @description The destination table name (clickhouse, snowflake, redshift)
                 * @example events
                 */
                readonly tableName?: string;
                /**
                 * @description The database name for the clickhouse destination
                 * @example analytics
                 */
                readonly database?: string;
                /**
                 * @description The Snowflake account identifier for the snowflake destination
                 * @example myorg-myaccount
                 */
                readonly accountIdentifier?: string;
                /**
                 * @description The user ID for the snowflake destination
                 * @example SVC_AMPERSAND
                 */
                readonly userId?: string;
                /**
                 * @description The database name (snowflake, redshift)
                 * @example ANALYTICS
                 */
                readonly dbName?: string;
                /**
                 * @description The schema name (snowflake, redshift)
                 * @example PUBLIC
                 */
                readonly schemaName?: string;
                /**
                 * @description The Google Cloud project ID (bigquery, pubsub)
                 * @example my-gcp-project
                 */
                readonly projectId?: string;
                /**
                 * @description The BigQuery dataset ID for the bigquery destination
                 * @example analytics
                 */
                readonly datasetId?: string;
                /**
                 * @description The BigQuery table ID for the bigquery destination
                 * @example events
                 */
                readonly tableId?: string;
                /**
                 * @description The Redshift Serverless workgroup name for the redshift destination
                 * @example my-workgroup
                 */
                readonly workgroupName?: string;
                /**
                 * @description The Redshift provisioned cluster identifier for the redshift destination
                 * @example my-cluster
                 */
                readonly clusterIdentifier?: string;
                /**
                 * @description The database user for the redshift destination
                 * @example ampersand
                 */
                readonly dbUser?: string;
                /**
                 * @description The storage account name for the azureblob destination
                 * @example mystorageaccount
                 */
                readonly account?: string;
                /**
                 * @description The blob container name for the azureblob destination
                 * @example ampersand-data
                 */
                readonly container?: string;
                /**
                 * @description The SQS queue URL for the sqs destination
                 * @example https://sqs.us-east-1.amazonaws.com/123456789012/my-queue
                 */
                readonly queueUrl?: string;
                /**
                 * @description The Pub/Sub topic ID for the pubsub destination
                 * @example ampersand-events
                 */
                readonly topicId?: string;
                /**
                 * @description The AMQP server URL for the rabbitmq destination
                 * @example amqp://rabbit.example.com:5672
                 */
                readonly serverUrl?: string;
                /**
                 * @description The exchange to publish to for the rabbitmq destination
                 * @example ampersand.events
                 */
                readonly exchange?: string;
                /**
                 * @description Whether to connect over TLS (rabbitmq)
                 * @example true
                 */
                readonly tls?: boolean;
                /**
                 * @description The queue or topic name for the azureservicebus destination
                 * @example ampersand-events
                 */
                readonly name?: string;
                /**
                 * @description For warehouse destinations, rows to buffer before flushing a batch (default 1000)
                 * @example 1000
                 */
                readonly batchSize?: number;
                /**
                 * @description For warehouse destinations, max seconds before flushing a batch (default 30)
                 * @example 30
                 */
                readonly maxWaitSecs?: number;
            };
            /**
             * Format: date-time
             * @description The time the destination was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the destination was updated.
             */
            readonly updateTime?: string;
        };
        /**
         * DestinationWithSecrets
         * @description Destination object with secrets field (returned by getDestination when includeSecrets is true)
         */
        readonly DestinationWithSecrets: {
            /** @description The destination ID. */
            readonly id: string;
            /**
             * @description User-defined name for the destination.
             * @example leadConvertedWebhook
             */
            readonly name: string;
            /**
             * @description The type of the destination.
             * @example webhook
             */
            readonly type: string;
            readonly metadata: {
                /**
                 * @description Webhook URL
                 * @example https://webhooks.mailmonkey.com/salesforce-lead-converted
                 */
                readonly url?: string;
                readonly headers?: components["schemas"]["WebhookHeaders"];
                /**
                 * @description The name of the Kinesis stream
                 * @example my-data-stream
                 */
                readonly streamName?: string;
                /**
                 * @description The AWS region for the destination
                 * @example us-east-1
                 */
                readonly region?: string;
                /**
                 * @description Template for generating partition keys
                 * @example {{.integration_id}}
                 */
                readonly partitionKeyTemplate?: string;
                /**
                 * @description The name of the S3 bucket
                 * @example ampersand-integration-bucket
                 */
                readonly bucket?: string;
                /**
                 * @description JMESPath template for generating S3 object keys
                 * @example join('/', [metadata.objectName, metadata.operationId])
                 */
                readonly keyTemplate?: string;
                /**
                 * @description The S3 storage class for written objects (defaults to STANDARD)
                 * @example STANDARD
                 */
                readonly storageClass?: string;
                /**
                 * @description The username for the clickhouse destination
                 * @example default
                 */
                readonly username?: string;
                /**
                 * @description The destination table name (clickhouse, snowflake, redshift)
                 * @example events
                 */
                readonly tableName?: string;
                /**
                 * @description The database name for the clickhouse destination
                 * @example analytics
                 */
                readonly database?: string;
                /**
                 * @description The Snowflake account identifier for the snowflake destination
                 * @example myorg-myaccount
                 */
                readonly accountIdentifier?: string;
                /**
                 * @description The user ID for the snowflake destination
                 * @example SVC_AMPERSAND
                 */
                readonly userId?: string;
                /**
                 * @description The database name (snowflake, redshift)
                 * @example ANALYTICS
                 */
                readonly dbName?: string;
                /**
                 * @description The schema name (snowflake, redshift)
                 * @example PUBLIC
                 */
                readonly schemaName?: string;
                /**
                 * @description The Google Cloud project ID (bigquery, pubsub)
                 * @example my-gcp-project
                 */
                readonly projectId?: string;
                /**
                 * @description The BigQuery dataset ID for the bigquery destination
                 * @example analytics
                 */
                readonly datasetId?: string;
                /**
                 * @description The BigQuery table ID for the bigquery destination
                 * @example events
                 */
                readonly tableId?: string;
                /**
                 * @description The Redshift Serverless workgroup name for the redshift destination
                 * @example my-workgroup
                 */
                readonly workgroupName?: string;
                /**
                 * @description The Redshift provisioned cluster identifier for the redshift destination
                 * @example my-cluster
                 */
                readonly clusterIdentifier?: string;
                /**
                 * @description The database user for the redshift destination
                 * @example ampersand
                 */
                readonly dbUser?: string;
                /**
                 * @description The storage account name for the azureblob destination
                 * @example mystorageaccount
                 */
                readonly account?: string;
                /**
                 * @description The blob container name for the azureblob destination
                 * @example ampersand-data
                 */
                readonly container?: string;
                /**
                 * @description The SQS queue URL for the sqs destination
                 * @example https://sqs.us-east-1.amazonaws.com/123456789012/my-queue
                 */
                readonly queueUrl?: string;
                /**
                 * @description The Pub/Sub topic ID for the pubsub destination
                 * @example ampersand-events
                 */
                readonly topicId?: string;
                /**
                 * @description The AMQP server URL for the rabbitmq destination
                 * @example amqp://rabbit.example.com:5672
                 */
                readonly serverUrl?: string;
                /**
                 * @description The exchange to publish to for the rabbitmq destination
                 * @example ampersand.events
                 */
                readonly exchange?: string;
                /**
                 * @description Whether to connect over TLS (rabbitmq)
                 * @example true
                 */
                readonly tls?: boolean;
                /**
                 * @description The queue or topic name for the azureservicebus destination
                 * @example ampersand-events
                 */
                readonly name?: string;
                /**
                 * @description For warehouse destinations, rows to buffer before flushing a batch (default 1000)
                 * @example 1000
                 */
                readonly batchSize?: number;
                /**
                 * @description For warehouse destinations, max seconds before flushing a batch (default 30)
                 * @example 30
                 */
                readonly maxWaitSecs?: number;
            };
            /**
             * Format: date-time
             * @description The time the destination was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the destination was updated.
             */
            readonly updateTime?: string;
            /** @description Destination secrets (only included when includeSecrets is true) */
            readonly secrets?: {
                /** @description Webhook signing key for the destination (only included for webhook destinations) */
                readonly webhookSigningKey?: string;
            };
        };
        /** Project */
        readonly Project: {
            /**
             * @description The unique identifier for the project.
             * @example proj_9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
             */
            readonly id: string;
            /**
             * @description The unique name for the project.
             * @example mailmonkey-staging
             */
            readonly name: string;
            /**
             * @description The display name of the application, shown to end users during the connection flow.
             * @example MailMonkey
             */
            readonly appName: string;
            /**
             * @description The ID of the organization that this project belongs to.
             * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
             */
            readonly orgId: string;
            /**
             * Format: date-time
             * @description The time the project was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the project was updated.
             */
            readonly updateTime?: string;
            /** @description Plan-based feature flags for the project. These are managed by Ampersand and cannot be set via the API. */
            readonly entitlements?: {
                /** @description Controls whether Ampersand branding is removed from the embeddable UI components. */
                readonly brandingRemoval?: {
                    /** @description True if Ampersand branding has been removed for this project. */
                    readonly value: boolean;
                };
                /** @description The number of days that logs are retained for this project. */
                readonly logRetentionDays?: {
                    /** @description The log retention period for this project, in days. */
                    readonly value: number;
                };
            };
        };
        /** Provider App */
        readonly ProviderApp: {
            /**
             * @description The provider app ID.
             * @example provider-app-123
             */
            readonly id: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /**
             * @description The ID used by the provider to identify the app (optional).
             * @example external-id-123
             */
            readonly externalRef?: string;
            /**
             * @description The SaaS provider that this app connects to.
             * @example salesforce
             */
            readonly provider: string;
            /**
             * @description The OAuth client ID for this app.
             * @example client-id-123
             */
            readonly clientId: string;
            /** @description The OAuth scopes for this app. */
            readonly scopes?: readonly string[];
            readonly metadata?: components["schemas"]["ProviderAppMetadata"];
            /**
             * Format: date-time
             * @description The time the provider app was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the provider app was updated.
             */
            readonly updateTime?: string;
        };
        /**
         * Provider App Metadata
         * @description Provider-specific configuration that extends the standard OAuth flow.
         */
        readonly ProviderAppMetadata: {
            /**
             * @description Additional query parameters to include in the OAuth authorization URL (e.g., optional_scope for HubSpot).
             * @example {
             *       "optional_scope": [
             *         "automation.sequences.read"
             *       ]
             *     }
             */
            readonly authQueryParams?: {
                readonly [key: string]: readonly string[];
            };
            /**
             * @description Provider-specific string values keyed by names (e.g., packageInstallURL for Salesforce, gcpProjectId and gcpPubSubTopicName for Gmail).
             * @example {
             *       "packageInstallURL": "https://login.salesforce.com/packaging/installPackage.apexp?p0=04t123456789",
             *       "gcpProjectId": "my-gcp-project",
             *       "gcpPubSubTopicName": "my-topic"
             *     }
             */
            readonly providerParams?: {
                readonly [key: string]: string;
            };
        };
        /** Integration */
        readonly Integration: {
            /** @description The integration ID. */
            readonly id: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /**
             * @description The integration name.
             * @example read-accounts
             */
            readonly name: string;
            /**
             * @description The SaaS provider that this integration connects to.
             * @example salesforce
             */
            readonly provider: string;
            /**
             * Format: date-time
             * @description The time the integration was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the integration was last updated.
             */
            readonly updateTime?: string;
            readonly latestRevision: components["schemas"]["Revision"];
        };
        /** Revision */
        readonly Revision: {
            /**
             * @description The revision ID.
             * @example revision-id-1
             */
            readonly id: string;
            /**
             * @description The spec version string.
             * @example 1.0.0
             */
            readonly specVersion: string;
            /**
             * Format: date-time
             * @description The time the revision was created.
             */
            readonly createTime: string;
            readonly content: components["schemas"]["Integration-2"];
        };
        /** Hydrated Revision */
        readonly HydratedRevision: {
            /**
             * @description The revision ID.
             * @example f0e1d2c3-b4a5-6789-0abc-def123456789
             */
            readonly id: string;
            /**
             * @description The spec version string.
             * @example 1.0.0
             */
            readonly specVersion: string;
            /**
             * Format: date-time
             * @description The time the revision was created.
             */
            readonly createTime: string;
            readonly content: components["schemas"]["HydratedIntegration"];
        };
        /** Installation */
        readonly Installation: {
            /** @description The installation ID. */
            readonly id: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /** @description The integration ID. */
            readonly integrationId: string;
            readonly group?: components["schemas"]["Group"];
            /**
             * @description The health status of the installation.
             * @example healthy
             * @enum {string}
             */
            readonly healthStatus: "healthy" | "unhealthy";
            /**
             * @description The status of the latest operation for this installation.
             * @example success
             * @enum {string}
             */
            readonly lastOperationStatus?: "success" | "failure" | "in_progress";
            readonly connection: components["schemas"]["Connection"];
            /**
             * Format: date-time
             * @description The time the installation was created.
             */
            readonly createTime: string;
            /**
             * @description The person who did the installation, in the format of "consumer:{consumer-id}".
             * @example consumer:consumer-123
             */
            readonly createdBy: string;
            /**
             * Format: date-time
             * @description The time the installation was last updated with a new config.
             */
            readonly updateTime?: string;
            readonly config: components["schemas"]["Config"];
        };
        /**
         * JSON Patch Operation
         * @description Represents a single JSON Patch operation (RFC 6902).
         *     Only supports add, remove, and replace operations for config updates.
         */
        readonly JSONPatchOperation: {
            /**
             * @description The operation to perform.
             *     - "add": Adds a new field or replaces an existing one at the specified path
             *     - "remove": Removes the field at the specified path
             *     - "replace": Replaces the value at the specified path
             * @example replace
             * @enum {string}
             */
            readonly op: "add" | "remove" | "replace";
            /**
             * @description JSON Pointer path to the field to operate on (RFC 6901).
             *     All paths must start with "/" (e.g., "/schedule", "/selectedFields/phone").
             * @example /schedule
             */
            readonly path: string;
            /**
             * @description The value to set for add/replace operations.
             *     Not used for remove operations.
             * @example *\/10 * * * *
             */
            readonly value?: unknown;
        };
        /** Config */
        readonly Config: {
            /**
             * @description The config ID.
             * @example config-123
             */
            readonly id: string;
            /**
             * @description The ID of the revision that was current when this config was created or last updated.
             * @example revision-123
             */
            readonly revisionId: string;
            /**
             * Format: date-time
             * @description The time the config was created.
             */
            readonly createTime: string;
            /**
             * @description The person who created the config, in the format of "consumer:{consumer-id}" or "builder:{builder-id}".
             * @example builder:builder-123
             */
            readonly createdBy: string;
            readonly content: components["schemas"]["ConfigContent"];
        };
        /** Connection */
        readonly Connection: {
            /**
             * @description The connection ID.
             * @example connection-123
             */
            readonly id: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /**
             * @description The SaaS provider that this Connection is for.
             * @example salesforce
             */
            readonly provider: string;
            readonly providerApp?: components["schemas"]["ProviderApp"];
            readonly group: components["schemas"]["Group"];
            readonly consumer: components["schemas"]["Consumer"];
            /**
             * @description If available, the identifier for the provider workspace (e.g. the Salesforce subdomain)
             * @example provider-workspace-123
             */
            readonly providerWorkspaceRef?: string;
            /**
             * @description If available, the ID that Salesforce/Hubspot uses to identify this user (e.g. Salesforce has IDs in the form of https://login.salesforce.com/id/00D4x0000019CQTEA2/0054x000000orJ4AA)
             * @example provider-consumer-123
             */
            readonly providerConsumerRef?: string;
            /**
             * Format: date-time
             * @description The time the connection was created.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the connection was last updated.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly updateTime?: string;
            /**
             * @description The authentication scheme used for this connection.
             * @example oauth2/authorizationCode
             * @enum {string}
             */
            readonly authScheme: "none" | "apiKey" | "basic" | "oauth2/authorizationCode" | "oauth2/authorizationCodePKCE" | "oauth2/clientCredentials" | "oauth2/password";
            /**
             * @description The status of the connection.
             *     - `created`: The connection has just been created or the access token was just refreshed.
             *     - `working`: The connection has successfully been used to make a request.
             *     - `bad_credentials`: The connection encountered credential-related issues when making a request, or when attempting to refresh the access token.
             * @example working
             * @enum {string}
             */
            readonly status: "created" | "working" | "bad_credentials";
            readonly oauth2AuthorizationCode?: components["schemas"]["Oauth2AuthorizationCodeTokensOnly"];
            /**
             * @description The API key used while making the connection.
             * @example api-key-123
             */
            readonly apiKey?: string;
            readonly providerMetadata?: components["schemas"]["ProviderMetadata"];
        };
        /** OAuth2 AuthorizationCode Token */
        readonly Oauth2AuthorizationCodeTokensOnly: {
            /** @description The access token for the connection. */
            readonly accessToken?: {
                readonly token: string;
                /**
                 * Format: date-time
                 * @example 2024-04-22T18:55:28.456076Z
                 */
                readonly issuedAt?: string;
                /**
                 * Format: date-time
                 * @example 2024-10-22T18:55:28.456076Z
                 */
                readonly expiresAt?: string;
            };
            /** @description The refresh token to use for the connection. */
            readonly refreshToken?: {
                readonly token: string;
                /**
                 * Format: date-time
                 * @example 2024-04-22T18:55:28.456076Z
                 */
                readonly issuedAt?: string;
                /**
                 * Format: date-time
                 * @example 2024-10-22T18:55:28.456076Z
                 */
                readonly expiresAt?: string;
            };
            /** @description The scopes for the tokens. */
            readonly scopes?: readonly string[];
        };
        /** OAuth2 Authorization Code */
        readonly Oauth2AuthorizationCode: {
            /** @description The access token for the connection. */
            readonly accessToken?: {
                readonly token: string;
                /** Format: date-time */
                readonly expiresAt?: string;
                /** Format: date-time */
                readonly issuedAt?: string;
            };
            /** @description The refresh token to use for the connection. */
            readonly refreshToken?: {
                readonly token: string;
                /** Format: date-time */
                readonly expiresAt?: string;
                /** Format: date-time */
                readonly issuedAt?: string;
            };
            /** @description The scopes for the tokens. */
            readonly scopes?: readonly string[];
        };
        /**
         * Update Connection Request
         * @description Specify which fields to update in `updateMask` and provide corresponding values in `connection`. Fields in `connection` not listed in `updateMask` are ignored.
         */
        readonly UpdateConnectionRequest: {
            /**
             * @description Fields to update. Each entry must have a corresponding value in `connection`. Credential fields (`apiKey`, `basicAuth`, `oauth2ClientCredentials`, `oauth2PasswordCredentials`) must match the connection's existing auth scheme.
             * @example [
             *       "apiKey"
             *     ]
             */
            readonly updateMask: readonly ("providerWorkspaceRef" | "providerMetadata" | "apiKey" | "basicAuth" | "oauth2ClientCredentials" | "oauth2PasswordCredentials")[];
            readonly connection: components["schemas"]["ConnectionRequest"];
        };
        /** Connection Request Body */
        readonly ConnectionRequest: {
            /** @description The ID of the provider workspace that this connection belongs to. */
            readonly providerWorkspaceRef?: string;
            readonly providerMetadata?: components["schemas"]["ProviderMetadata"];
            /** @description The name of the user group that has access to this installation. */
            readonly groupName?: string;
            /**
             * @description The ID of the user group that has access to this installation.
             * @example group-123
             */
            readonly groupRef?: string;
            /** @description The name of the consumer that has access to this installation. */
            readonly consumerName?: string;
            /** @description The consumer reference. */
            readonly consumerRef?: string;
            /** @description The provider name (e.g. "salesforce", "hubspot") */
            readonly provider?: string;
            /** @description The API key to use for the connection. */
            readonly apiKey?: string;
            /**
             * @description Values used for custom auth input variables. Most values are strings (API keys, tokens, etc.), but structured values like arrays are also accepted — for example, googleWorkspaceDelegation sends a `scopes` array alongside the service account key.
             * @example {
             *       "serviceAccountKey": "base64encodedkey",
             *       "scopes": [
             *         "https://www.googleapis.com/auth/calendar",
             *         "https://mail.google.com/"
             *       ]
             *     }
             */
            readonly customAuth?: {
                readonly [key: string]: unknown;
            };
            readonly basicAuth?: {
                /** @description The username to use for the connection. */
                readonly username: string;
                /** @description The password to use for the connection. */
                readonly password: string;
            };
            readonly oauth2ClientCredentials?: {
                /** @description The client ID to use for the connection. */
                readonly clientId: string;
                /** @description The client secret to use for the connection. */
                readonly clientSecret: string;
                /** @description The scopes for the tokens. */
                readonly scopes?: readonly string[];
            };
            readonly oauth2PasswordCredentials?: {
                /** @description The username to use for the connection. */
                readonly username: string;
                /** @description The password to use for the connection. */
                readonly password: string;
                /** @description The client ID to use for the connection. */
                readonly clientId: string;
                /** @description The client secret to use for the connection. */
                readonly clientSecret: string;
                /** @description The scopes for the tokens. */
                readonly scopes?: readonly string[];
            };
            readonly oauth2AuthorizationCode?: components["schemas"]["Oauth2AuthorizationCode"];
        };
        /** Generate Connection Request */
        readonly GenerateConnectionRequest: components["schemas"]["ConnectionRequest"] & Record<string, never>;
        /** Group */
        readonly Group: {
            /**
             * @description The ID of the user group that has access to this installation.
             * @example group-123
             */
            readonly groupRef: string;
            /**
             * @description The name of the user group that has access to this installation.
             * @example Super Customer
             */
            readonly groupName: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /**
             * Format: date-time
             * @description The time the group was created.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the group was last updated.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly updateTime?: string;
        };
        /** Consumer */
        readonly Consumer: {
            /**
             * @description The consumer reference.
             * @example consumer-123
             */
            readonly consumerRef: string;
            /**
             * @description The name of the consumer.
             * @example Super Customer
             */
            readonly consumerName: string;
            /**
             * @description The Ampersand project ID.
             * @example project-456
             */
            readonly projectId: string;
            /**
             * Format: date-time
             * @description The time the consumer was created.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the consumer was last updated.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly updateTime?: string;
        };
        /** Operation */
        readonly Operation: {
            /**
             * @description The Ampersand project ID.
             * @example 123e4567-e89b-12d3-a456-426614174000
             */
            readonly projectId: string;
            /** @description The integration ID. */
            readonly integrationId: string;
            /**
             * @description The config ID.
             * @example a1b2c3d4-e5f6-4789-a012-3456789abcde
             */
            readonly configId: string;
            /**
             * @description The type of action that was performed (`read`, `write`, or `subscribe`).
             * @example read
             */
            readonly actionType: string;
            /** @description Unique identifier for this operation. Use this to fetch operation details or list logs for debugging. */
            readonly id: string;
            /** @description The Ampersand installation ID (customer instance) that this operation ran for. */
            readonly installationId: string;
            /**
             * @description The status of the operation.
             *     - `success`: The operation completed successfully
             *     - `failure`: The operation failed
             *     - `in_progress`: The operation is currently running
             * @example success
             */
            readonly status: string;
            /**
             * @description A human-readable summary of what the operation accomplished. Examples: `[contact] No new data found`, `Batch write completed (3 succeeded, 1 failed)`. May be absent.
             * @example [contact] No new data found
             */
            readonly result?: string;
            /**
             * @description Additional operation details (e.g. objects, retry info, read progress, successfulRecordIds).
             * @example {
             *       "objects": [
             *         "contact"
             *       ],
             *       "progress": {
             *         "installationId": "66438162-5299-4669-a41d-85c5a3b1a83e",
             *         "objectName": "contact",
             *         "operationId": "3efc0f0f-4bb9-498f-996c-9893d98ca4b5",
             *         "recordsProcessed": 1250,
             *         "recordsEstimatedTotal": 5000
             *       }
             *     }
             */
            readonly metadata?: {
                readonly objects?: readonly string[];
                readonly retry?: {
                    readonly attempts?: number;
                    /** Format: date-time */
                    readonly lastAttempt?: string;
                    /** Format: date-time */
                    readonly lastNotified?: string;
                };
                /** @description Read progress for the operation, reporting records processed and, where available, the estimated total. Present for all read operations. */
                readonly progress?: {
                    readonly installationId?: string;
                    readonly objectName?: string;
                    readonly operationId?: string;
                    readonly recordsProcessed?: number;
                    /** @description Only present for some providers (e.g. Salesforce, HubSpot). */
                    readonly recordsEstimatedTotal?: number;
                };
                /** @description Provider-assigned IDs of successfully created or updated records. Only present for write operations. */
                readonly successfulRecordIds?: readonly string[];
            };
            /**
             * Format: date-time
             * @description The time the operation was created.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly createTime?: string;
        };
        /** BackfillProgress */
        readonly BackfillProgress: {
            /** @description The installation ID. */
            readonly installationId: string;
            /** @description The object being synced (e.g., contact, account). */
            readonly objectName: string;
            /** @description The ID of the backfill operation. */
            readonly operationId: string;
            /**
             * @description The number of records processed so far. Updates as more records are read during the backfill.
             * @example 1250
             */
            readonly recordsProcessed: number;
            /**
             * @description The estimated total number of records to process. Only present for Salesforce and HubSpot; other connectors omit this field.
             * @example 5000
             */
            readonly recordsEstimatedTotal?: number;
            /**
             * Format: date-time
             * @description When the backfill operation started.
             */
            readonly createTime?: string;
            /**
             * Format: date-time
             * @description When progress was last updated.
             */
            readonly updateTime?: string;
        };
        /** Log */
        readonly Log: {
            /**
             * @description The time the log was created.
             * @example 2023-07-13T21:34:44.816354Z
             */
            readonly timestamp: string;
            /** @description The log message object. */
            readonly message: {
                /**
                 * @description The use-readable message.
                 * @example This is a log message
                 */
                readonly msg: string;
                /** @description The error message, if there has been an error. */
                readonly error?: string;
                /** @description The operation ID. */
                readonly operation_id?: string;
                /**
                 * @description The details of the log.
                 * @example {
                 *       "request": "GET /api/v1/users"
                 *     }
                 */
                readonly details?: {
                    readonly [key: string]: string;
                };
            } & {
                readonly [key: string]: unknown;
            };
            /**
             * @description The severity of the log.
             * @example DEBUG
             */
            readonly severity: string;
        };
        /** Signed URL */
        readonly SignedUrl: {
            /** @description The signed URL to upload the zip file to. */
            readonly url: string;
            /** @description The bucket (will match the bucket part of the url). */
            readonly bucket: string;
            /** @description The path (will match the path part of the url). */
            readonly path: string;
        };
        /**
         * API Key Scopes
         * @description The scopes for the API key.
         */
        readonly ApiKeyScopes: readonly string[];
        /** API Key Request */
        readonly ApiKeyRequest: {
            /**
             * @description A short name for the API key.
             * @example MailMonkey API Key
             */
            readonly label: string;
            readonly scopes?: components["schemas"]["ApiKeyScopes"];
        };
        /** API Key */
        readonly ApiKey: {
            /**
             * @description The API key.
             * @example api-key-123
             */
            readonly key: string;
            /**
             * @description A short name for the API key.
             * @example MailMonkey API Key
             */
            readonly label: string;
            readonly scopes: components["schemas"]["ApiKeyScopes"];
            /**
             * @description The project ID.
             * @example my-project
             */
            readonly projectId: string;
            /**
             * @description Whether the API key is active.
             * @example true
             */
            readonly active?: boolean;
        };
        /** Patch API Key Request */
        readonly PatchApiKeyRequest: {
            /**
             * @description Array of field paths specifying which fields to update. Allowed values include:
             *     - active
             *     - label
             *     - scopes
             * @example [
             *       "active",
             *       "label"
             *     ]
             */
            readonly updateMask: readonly string[];
            readonly apiKey: {
                /**
                 * @description A short name for the API key.
                 * @example MailMonkey API Key
                 */
                readonly label?: string;
                /**
                 * @description Whether the API key is active.
                 * @example true
                 */
                readonly active?: boolean;
                readonly scopes?: components["schemas"]["ApiKeyScopes"];
            };
        };
        /**
         * Webhook Headers
         * @description Additional headers to add when Ampersand sends a webhook message
         * @example {
         *       "Authorization": "Bearer 1234"
         *     }
         */
        readonly WebhookHeaders: {
            readonly [key: string]: string;
        } | null;
        /** Invite */
        readonly Invite: {
            /** @description The invite ID. */
            readonly id: string;
            /** @description The email address of the person invited. */
            readonly invitedEmail: string;
            /**
             * @description The type of entity that the person is invited to.
             * @enum {string}
             */
            readonly parentType: "org";
            /** @description The ID of the parent (e.g. org ID). */
            readonly parentId: string;
            /**
             * @description The status of the invite.
             * @enum {string}
             */
            readonly status: "pending" | "accepted" | "revoked" | "expired";
            /**
             * Format: date-time
             * @description The time the invite was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time the invite was updated.
             */
            readonly updateTime?: string;
        };
        /** Builder */
        readonly Builder: {
            /**
             * @description The builder ID.
             * @example builder-id-123
             */
            readonly id: string;
            /**
             * @description The identity provider
             * @example clerk
             */
            readonly idpProvider: string;
            /** @description ID used by the identity provider */
            readonly idpRef: string;
            /**
             * Format: date-time
             * @description The time that the builder joined Ampersand.
             */
            readonly createTime: string;
            readonly firstName?: string;
            readonly lastName?: string;
            readonly fullName?: string;
            readonly primaryEmail?: string;
        };
        /** Billing Account */
        readonly BillingAccount: {
            /**
             * @description The billing account ID.
             * @example billing-account-123
             */
            readonly id: string;
            /**
             * @description The display name of the billing account.
             * @example Acme Inc
             */
            readonly displayName: string;
            /**
             * @description The billing provider that this account is associated with.
             * @example stripe
             */
            readonly billingProvider: string;
            /**
             * @description The ID used by the billing provider to identify the account.
             * @example acct_1J2k3l4m5n6o7p8q9r0s
             */
            readonly billingProviderRef: string;
            /**
             * Format: date-time
             * @description The time the billing account was created.
             */
            readonly createTime?: string;
            /**
             * Format: date-time
             * @description The time the billing account was last updated.
             */
            readonly updateTime?: string;
        };
        /** Builder Info */
        readonly BuilderInfo: {
            readonly builder: components["schemas"]["Builder"];
            /** @description A map of project IDs to project roles for the builder. */
            readonly projectRoles: {
                readonly [key: string]: {
                    /**
                     * @description The role of the builder in the project.
                     * @example admin
                     */
                    readonly role: string;
                    /**
                     * @description The type of the principal.
                     * @enum {string}
                     */
                    readonly principalType: "team" | "builder";
                    /**
                     * @description The ID of the team or builder.
                     * @example builder-id-123
                     */
                    readonly principalId: string;
                    readonly project: components["schemas"]["Project"];
                };
            };
            readonly orgRole?: {
                /**
                 * @description The role of the builder in the org.
                 * @example admin
                 */
                readonly role: string;
                /**
                 * @description The type of the principal.
                 * @enum {string}
                 */
                readonly principalType: "team" | "builder";
                /**
                 * @description The ID of the team or builder.
                 * @example builder-id-123
                 */
                readonly principalId: string;
                readonly org: components["schemas"]["Org"];
            };
        };
        /** Object Metadata */
        readonly ObjectMetadata: {
            /**
             * @description The provider name of the object
             * @example contact
             */
            readonly name: string;
            /**
             * @description Human-readable name of the object
             * @example Contact
             */
            readonly displayName?: string;
            /**
             * @description The mapped name of the object as defined in your integration config, if a mapping was applied. Only present when using the installation-scoped metadata endpoint.
             * @example people
             */
            readonly mappedObjectName?: string;
            /** @description Map of field metadata keyed by field name */
            readonly fields: {
                readonly [key: string]: components["schemas"]["FieldMetadata"];
            };
        };
        /** Provider Metadata */
        readonly ProviderMetadata: {
            readonly [key: string]: components["schemas"]["ProviderMetadataInfo"];
        };
        /** Provider Metadata Info */
        readonly ProviderMetadataInfo: {
            /**
             * @description The value of the metadata field
             * @example 1234567890
             */
            readonly value: string;
            /**
             * @description The source of the metadata field
             * @example input
             * @enum {string}
             */
            readonly source: "input" | "token" | "provider";
            /**
             * @description The human-readable name for the field
             * @example Account ID
             */
            readonly displayName?: string;
        };
        /** Pagination Information */
        readonly PaginationInfo: {
            /**
             * @description If set to true, this is the last page of results for the given operation. There are no more results & there will be no nextPageToken sent when done is true.
             * @example false
             */
            readonly done: boolean;
            /**
             * @description If present, set this value against your 'pageToken' query parameter in the next API call, which will retrieve the next set of results.
             * @example Q9JT+2qfys28V4ODN+UayA==
             */
            readonly nextPageToken?: string;
        };
        /**
         * @description Array of field paths specifying which fields to update.
         *     Uses dot notation for nested fields (e.g., "config.revision", "metadata.tags").
         *
         *     **Field Path Rules:**
         *     - Use dot notation for nested objects: `parent.child.field`
         *     - Escape special characters: `field\.with\.dots`, `field\:with\:colons`
         *     - Array elements not directly addressable
         *     - Object names can be specified directly (e.g., "config.content.read.objects.contacts")
         *     - The * operator in paths like "config.content.read.objects.*" allows you to specify any object name
         *       - Example: "config.content.read.objects.*" pattern allows "config.content.read.objects.contacts", "config.content.read.objects.leads", etc.
         * @example [
         *       "name",
         *       "config.content.read.objects.contacts",
         *       "config.content.write.objects.leads"
         *     ]
         */
        readonly UpdateMask: readonly string[];
        readonly CreateJWTKeyRequest: {
            /**
             * @description Human-readable label for the JWT key
             * @example production-key-1
             */
            readonly label: string;
            /**
             * @description The cryptographic JWT signing algorithm (currently only RS256 is supported)
             * @example RS256
             * @enum {string}
             */
            readonly algorithm: "RS256";
            /**
             * Format: pem
             * @description RSA public key in PEM format for JWT signature verification
             * @example -----BEGIN PUBLIC KEY-----
             *     MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4f5wg5l2hKsTeNem/V41
             *     fGnJm6gOdrj8ym3rFkEjWT2btf2QisEgQG5WQwTfEUvUNR8JW5FQ0mKJ5I4LhXq6
             *     V5gN6kSKs2cUdD8Ky7Lj7kqn6I3l3r3F2fK9MFjZ8tU5z4z4yHdF6W2C3k5vf3f
             *     -----END PUBLIC KEY-----
             */
            readonly publicKeyPem: string;
        };
        readonly JWTKeyResponse: {
            /**
             * Format: uuid
             * @description The unique key identifier (key ID) for the created JWT key
             * @example 550e8400-e29b-41d4-a716-446655440000
             */
            readonly kid: string;
        };
        readonly JWTKey: {
            /**
             * Format: uuid
             * @description Unique identifier for the JWT key
             * @example 550e8400-e29b-41d4-a716-446655440000
             */
            readonly id: string;
            /**
             * Format: uuid
             * @description The project this JWT key belongs to
             * @example 123e4567-e89b-12d3-a456-426614174000
             */
            readonly projectId: string;
            /**
             * @description Human-readable name for the JWT key
             * @example production-key-1
             */
            readonly label: string;
            /**
             * @description The cryptographic algorithm used
             * @example RSA
             * @enum {string}
             */
            readonly algorithm: "RSA";
            /**
             * Format: pem
             * @description RSA public key in PEM format
             * @example -----BEGIN PUBLIC KEY-----
             *     MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4f5wg5l2hKsTeNem/V41
             *     -----END PUBLIC KEY-----
             */
            readonly publicKeyPem: string;
            /**
             * @description Whether the JWT key is currently active and can be used for verification
             * @example true
             */
            readonly active: boolean;
            /**
             * Format: date-time
             * @description Timestamp when the JWT key was created
             * @example 2024-01-15T10:30:00Z
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description Timestamp when the JWT key was last updated
             * @example 2024-01-15T10:30:00Z
             */
            readonly updateTime: string;
        };
        readonly PatchJWTKeyRequest: {
            /**
             * @description List of field paths to update (currently supports 'active' and 'name')
             * @example [
             *       "active",
             *       "label"
             *     ]
             */
            readonly updateMask: readonly ("active" | "label")[];
            /**
             * @description Object containing the fields to update with their new values
             * @example {
             *       "active": false,
             *       "name": "updated-key-name"
             *     }
             */
            readonly jwtKey: {
                /**
                 * @description New active status for the JWT key
                 * @example false
                 */
                readonly active?: boolean;
                /**
                 * @description New label for the JWT key
                 * @example updated-key-name
                 */
                readonly label?: string;
            } & {
                readonly [key: string]: unknown;
            };
        };
        /** @description Request payload for upserting metadata (fields only) */
        readonly UpsertMetadataRequest: {
            /**
             * @description The ID that your app uses to identify the group of users for this request.
             * @example group-123
             */
            readonly groupRef: string;
            /** @description Maps object names to field definitions */
            readonly fields: {
                readonly [key: string]: readonly components["schemas"]["FieldDefinition"][];
            };
        };
        /** @description Response containing results for all created/updated fields */
        readonly UpsertMetadataResponse: {
            /** @description Indicates if the upsert operation was successful */
            readonly success: boolean;
            /** @description Maps object name -> field name -> upsert result */
            readonly fields: {
                readonly [key: string]: {
                    readonly [key: string]: components["schemas"]["FieldUpsertResult"];
                };
            };
        };
        /** @description Field definition for creating or updating custom fields */
        readonly FieldDefinition: {
            /**
             * @description The identifier of the field
             * @example My_Custom_Field
             */
            readonly fieldName: string;
            /**
             * @description The human-readable name of the field
             * @example My Custom Field
             */
            readonly displayName: string;
            /** @description Optional description of the field */
            readonly description?: string;
            /**
             * @description The data type of the field. Valid values are string, boolean, date, datetime, singleSelect, multiSelect, int, float, reference
             * @example string
             */
            readonly valueType: string;
            /** @description Indicates if the field is required */
            readonly required?: boolean;
            /** @description Indicates if the field must be unique across all records */
            readonly unique?: boolean;
            /** @description Indicates if the field should be indexed for faster search */
            readonly indexed?: boolean;
            readonly stringOptions?: components["schemas"]["StringFieldOptions"];
            readonly numericOptions?: components["schemas"]["NumericFieldOptions"];
            readonly association?: components["schemas"]["AssociationDefinition"];
        };
        /** @description Additional options for string fields */
        readonly StringFieldOptions: {
            /** @description Maximum length of the string field */
            readonly length?: number;
            /** @description Regex pattern that the string field value must match */
            readonly pattern?: string;
            /** @description List of allowed values for enum fields */
            readonly values?: readonly string[];
            /** @description Indicates if the field value must be limited to what's in Values */
            readonly valuesRestricted?: boolean;
            /** @description Default value for the field */
            readonly defaultValue?: string;
        };
        /** @description Additional options for numeric fields */
        readonly NumericFieldOptions: {
            /** @description Total number of digits (for decimal types) */
            readonly precision?: number;
            /** @description Number of digits to the right of the decimal point (for decimal types) */
            readonly scale?: number;
            /** @description Minimum value for numeric fields */
            readonly min?: number;
            /** @description Maximum value for numeric fields */
            readonly max?: number;
            /** @description Default value for the field */
            readonly defaultValue?: number;
        };
        /** @description Relationship information for a field to another object */
        readonly AssociationDefinition: {
            /**
             * @description High-level association variety (e.g., 'foreignKey', 'lookup', 'ref')
             * @example foreignKey
             */
            readonly associationType: string;
            /**
             * @description Name of the referenced/parent object
             * @example Account
             */
            readonly targetObject: string;
            /** @description Name of the referenced field on the target object */
            readonly targetField?: string;
            /**
             * @description Association cardinality from the referencing field's perspective
             * @example many-to-one
             */
            readonly cardinality?: string;
            /**
             * @description Behavior upon foreign object deletion
             * @example setNull
             */
            readonly onDelete?: string;
            /** @description If true, a referenced record must exist */
            readonly required?: boolean;
            /** @description Optional inverse relationship/property name exposed on the target object */
            readonly reverseLookupFieldName?: string;
            readonly labels?: components["schemas"]["AssociationLabels"];
        };
        /** @description UI labels for an association */
        readonly AssociationLabels: {
            /** @description Singular display label */
            readonly singular?: string;
            /** @description Plural display label */
            readonly plural?: string;
        };
        /** @description Result of an upsert operation for a single field */
        readonly FieldUpsertResult: {
            /** @description Name of the field */
            readonly fieldName: string;
            /** @description Action taken (create, update, none) */
            readonly action: string;
            /** @description Provider-specific metadata about the field */
            readonly metadata?: {
                readonly [key: string]: unknown;
            };
            /** @description Warnings that occurred during the upsert operation */
            readonly warnings?: readonly string[];
        };
        readonly ClaimedDomainResponse: {
            /**
             * @description Unique identifier for the claimed domain
             * @example 00000000-0000-0000-0000-000000000001
             */
            readonly id: string;
            /**
             * @description Type of the parent entity that claimed the domain
             * @example org
             */
            readonly parentType: string;
            /**
             * @description ID of the parent entity that claimed the domain
             * @example 00000000-0000-0000-0000-000000000001
             */
            readonly parentId: string;
            /**
             * @description The normalized domain name
             * @example xyz.com
             */
            readonly domain: string;
        };
        /** Topic */
        readonly Topic: {
            /** @description The topic ID. */
            readonly id: string;
            /**
             * @description The name of the topic. Must contain only letters, numbers, and dashes.
             * @example system-alerts
             */
            readonly name: string;
            /** @description The Ampersand project ID. */
            readonly projectId: string;
            /**
             * Format: date-time
             * @description The time when the topic was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time when the topic was last updated.
             */
            readonly updateTime?: string;
        };
        /** Notification Event Topic Route */
        readonly NotificationEventTopicRoute: {
            /** @description The event-topic route ID. */
            readonly id: string;
            readonly eventType: components["schemas"]["NotificationEventType"];
            /** @description The ID of the topic to route events to. */
            readonly topicId: string;
            /** @description The Ampersand project ID. */
            readonly projectId: string;
            /**
             * Format: date-time
             * @description The time when the event-topic route was created.
             */
            readonly createTime: string;
            /**
             * Format: date-time
             * @description The time when the event-topic route was last updated.
             */
            readonly updateTime?: string;
        };
        /**
         * @description The type of notification event.
         * @enum {string}
         */
        readonly NotificationEventType: "connection.created" | "connection.error" | "connection.refreshed" | "connection.updated" | "connection.deleted" | "installation.created" | "installation.updated" | "installation.deleted" | "read.schedule.paused" | "read.backfill.done" | "read.triggered.done" | "read.triggered.error" | "write.async.done" | "subscribe.create.error" | "destination.webhook.disabled";
        /** Topic Destination Route */
        readonly TopicDestinationRoute: {
            /** @description The topic destination route ID. */
            readonly id: string;
            /** @description The ID of the topic. */
            readonly topicId: string;
            /** @description The ID of the destination. */
            readonly destinationId: string;
            /** @description The Ampersand project ID. */
            readonly projectId: string;
            /**
             * Format: date-time
             * @description The time when the topic destination route was created.
             */
            readonly createTime: string;
        };
        /**
         * Problem
         * @description A Problem Details object (RFC 9457).
         *
         *     Additional properties specific to the problem type may be present.
         * @example {
         *       "type": "urn:problem-type:exampleOrganization:exampleProblem",
         *       "href": "https://www.belgif.be/specification/rest/api-guide/#standardized-problem-types",
         *       "title": "Description of the type of problem that occurred",
         *       "status": 400,
         *       "detail": "Description of specific occurrence of the problem",
         *       "instance": "urn:uuid:123e4567-e89b-12d3-a456-426614174000"
         *     }
         */
        readonly Problem: {
            /**
             * Format: uri
             * @description An absolute URI that identifies the problem type
             * @default about:blank
             */
            readonly type: string;
            /**
             * Format: uri
             * @description An absolute URI that, when dereferenced, provides human-readable documentation for the problem type (e.g. using HTML).
             */
            readonly href?: string;
            /**
             * @description A short summary of the problem type. Written in English and readable for engineers (usually not suited for non technical stakeholders and not localized).
             * @example Service Unavailable
             */
            readonly title?: string;
            /**
             * Format: int32
             * @description The HTTP status code generated by the origin server for this occurrence of the problem.
             * @example 503
             */
            readonly status?: number;
            /** @description A human-readable explanation specific to this occurrence of the problem */
            readonly detail?: string;
            /**
             * Format: uri
             * @description An absolute URI that identifies the specific occurrence of the problem. It may or may not yield further information if dereferenced.
             */
            readonly instance?: string;
        };
        /** API Problem */
        readonly ApiProblem: {
            /**
             * @description The subsystem that generated the problem
             * @example api
             */
            readonly subsystem?: string;
            /**
             * Format: date-time
             * @description The time the problem occurred, formatted as RFC-3339
             * @example 2024-04-22T18:55:28.456076Z
             */
            readonly time?: string;
            /**
             * @description A unique identifier for the request, useful for debugging
             * @example 89eb1ffb-2a54-4105-aaae-7bf990f1aa69#87715
             */
            readonly requestId?: string;
            /**
             * @description A list of problems that caused this problem. This can be used to represent multiple
             *     root causes. There is no guaranteed ordering of the causes.
             * @example [
             *       "database connection failed",
             *       "database query failed",
             *       "unable to fetch user"
             *     ]
             */
            readonly causes?: readonly string[];
            /**
             * @description A brief description of how to resolve the problem
             * @example Shorten your input to be under 100 characters
             */
            readonly remedy?: string;
            /**
             * Format: email
             * @description An email address to contact for support
             * @example support@withampersand.com
             */
            readonly supportEmail?: string;
            /**
             * @description A phone number to contact for support
             * @example +1-555-555-5555
             */
            readonly supportPhone?: string;
            /**
             * Format: uri
             * @description A URL to contact for support
             * @example https://withampersand.com/support
             */
            readonly supportUrl?: string;
            /**
             * @description Whether the request can be retried
             * @example false
             */
            readonly retryable?: boolean;
            /**
             * Format: date-time
             * @description A timestamp after which the request can be retried, formatted as RFC-3339
             * @example 2024-04-22T18:55:28.456076Z
             */
            readonly retryAfter?: string;
            /**
             * @description Additional context for the problem
             * @example {
             *       "name": "Rick Sanchez"
             *     }
             */
            readonly context?: {
                readonly [key: string]: unknown;
            };
        } & components["schemas"]["Problem"];
        /**
         * Input Validation Issue
         * @description An issue detected during input validation.
         */
        readonly InputValidationIssue: {
            /**
             * @description The location of the invalid input
             * @enum {string}
             */
            readonly in?: "body" | "header" | "path" | "query";
            /** @description The name of the invalid input */
            readonly name?: string;
            /** @description The value of the erroneous input */
            readonly value?: unknown;
        } & components["schemas"]["ApiProblem"];
        /**
         * Input Validation Problem
         * @example {
         *       "type": "about:blank",
         *       "title": "Bad Request",
         *       "status": 400,
         *       "detail": "The input message is incorrect",
         *       "instance": "123456-1234-1235-4567489798",
         *       "issues": [
         *         {
         *           "type": "about:blank",
         *           "detail": "exampleNumericProperty should be numeric",
         *           "in": "path",
         *           "name": "exampleNumericProperty",
         *           "value": "abc"
         *         },
         *         {
         *           "type": "about:blank",
         *           "title": "Input isn't valid with respect to schema",
         *           "detail": "examplePropertyWithPattern a2345678901 doesn't match pattern '^\\d{11}$'",
         *           "in": "body",
         *           "name": "items[0].examplePropertyWithPattern",
         *           "value": "a2345678901"
         *         }
         *       ]
         *     }
         */
        readonly InputValidationProblem: {
            readonly issues?: readonly components["schemas"]["InputValidationIssue"][];
        } & components["schemas"]["ApiProblem"];
        /** Integration Field Existent */
        readonly IntegrationFieldExistent: {
            readonly fieldName: string;
            /**
             * @description The field name to map to.
             * @example account_id
             */
            readonly mapToName?: string;
            /**
             * @description The display name to map to.
             * @example Account ID
             */
            readonly mapToDisplayName?: string;
        };
        /** Integration Field Mapping */
        readonly IntegrationFieldMapping: {
            readonly mapToName: string;
            readonly mapToDisplayName?: string;
            readonly default?: string;
            readonly prompt?: string;
        };
        /** Integration Field */
        readonly IntegrationField: components["schemas"]["IntegrationFieldExistent"] | components["schemas"]["IntegrationFieldMapping"];
        /**
         * Optional Fields Auto Option
         * @enum {string}
         */
        readonly OptionalFieldsAutoOption: "all";
        /** Default Period */
        readonly DefaultPeriod: {
            /**
             * @description Number of days in past to backfill from. 0 is no backfill. e.g) if 10, then backfill last 10 days of data. Required if fullHistory is not set.
             * @example 30
             */
            readonly days?: number;
            /**
             * @description If true, backfill all history. Required if days is not set.
             * @example false
             */
            readonly fullHistory?: boolean;
        };
        /** Backfill */
        readonly Backfill: {
            readonly defaultPeriod: components["schemas"]["DefaultPeriod"];
        };
        /** Delivery */
        readonly Delivery: {
            /**
             * @description The data delivery mode for this object. If not specified, defaults to automatic.
             * @default auto
             * @enum {string}
             */
            readonly mode: "onRequest" | "auto";
            /** @description The number of records to receive per data delivery. */
            readonly pageSize?: number;
        };
        /** Integration Object */
        readonly IntegrationObject: {
            readonly objectName: string;
            readonly destination: string;
            readonly schedule: string;
            /**
             * @description An object name to map to.
             * @example people
             */
            readonly mapToName?: string;
            /**
             * @description A display name to map to.
             * @example People
             */
            readonly mapToDisplayName?: string;
            readonly requiredFields?: readonly components["schemas"]["IntegrationField"][];
            readonly optionalFields?: readonly components["schemas"]["IntegrationField"][];
            readonly optionalFieldsAuto?: components["schemas"]["OptionalFieldsAutoOption"];
            readonly backfill?: components["schemas"]["Backfill"];
            readonly delivery?: components["schemas"]["Delivery"];
            /**
             * @description If set to `always`, Ampersand reads this object for every installation even if the customer never selects it (or it isn't present) in the installation config.
             * @enum {string}
             */
            readonly enabled?: "always";
        };
        /** Read Integration */
        readonly IntegrationRead: {
            readonly objects?: readonly components["schemas"]["IntegrationObject"][];
        };
        /**
         * Value Defaults
         * @description Configuration to set default write values for object fields.
         */
        readonly ValueDefaults: {
            /**
             * @description If true, users can set default values for any field.
             * @example true
             */
            readonly allowAnyFields?: boolean;
        };
        /** Integration Write Object */
        readonly IntegrationWriteObject: {
            readonly objectName: string;
            /**
             * @description If true, the write object will inherit the mapping from the read object. If false, the write object will have no mapping.
             * @example true
             */
            readonly inheritMapping?: boolean;
            readonly valueDefaults?: components["schemas"]["ValueDefaults"];
        };
        /** Write Integration */
        readonly IntegrationWrite: {
            readonly objects?: readonly components["schemas"]["IntegrationWriteObject"][];
        };
        /** Proxy Integration */
        readonly IntegrationProxy: {
            readonly enabled?: boolean;
            /** @description Default is false. If this is set to true, the base URL for the proxy action will be the module's base URL. Otherwise, it is assumed that the base URL is the provider's root base URL. */
            readonly useModule?: boolean;
        };
        readonly CreateEvent: {
            /**
             * @description If always, the integration will subscribe to create events by default.
             * @enum {string}
             */
            readonly enabled?: "always";
        };
        readonly UpdateEvent: {
            /**
             * @description If always, the integration will subscribe to update events by default.
             * @enum {string}
             */
            readonly enabled?: "always";
            /**
             * @description If `all`, the integration will watch all fields for updates. If `selected`, the integration will watch only the fields that are selected by the user. If `inheritFieldsAndMapping` is true for Subscribe action, the integration will watch the selected fields from read action that are selected by the user.
             * @example all
             * @enum {string}
             */
            readonly watchFieldsAuto?: "all" | "selected";
            readonly requiredWatchFields?: readonly string[];
        };
        readonly DeleteEvent: {
            /**
             * @description If always, the integration will subscribe to delete events by default.
             * @enum {string}
             */
            readonly enabled?: "always";
        };
        readonly AssociationChangeEvent: {
            /**
             * @description If always, the integration will subscribe to association change events.
             * @enum {string}
             */
            readonly enabled?: "always";
            /** @description If true, the integration will include full records in the event payload. */
            readonly includeFullRecords?: boolean;
        };
        readonly OtherEvents: readonly string[];
        /** Integration Subscribe Object */
        readonly IntegrationSubscribeObject: {
            readonly objectName: string;
            readonly destination: string;
            /**
             * @description If true, the integration will inherit the fields and mapping from the read object.
             * @example true
             */
            readonly inheritFieldsAndMapping?: boolean;
            readonly createEvent?: components["schemas"]["CreateEvent"];
            readonly updateEvent?: components["schemas"]["UpdateEvent"];
            readonly deleteEvent?: components["schemas"]["DeleteEvent"];
            readonly associationChangeEvent?: components["schemas"]["AssociationChangeEvent"];
            readonly otherEvents?: components["schemas"]["OtherEvents"];
        };
        /** Subscribe Integration */
        readonly IntegrationSubscribe: {
            readonly objects?: readonly components["schemas"]["IntegrationSubscribeObject"][];
        };
        /**
         * Field Created Event
         * @description Configuration for detecting when new fields are created.
         */
        readonly FieldCreatedEvent: {
            /**
             * @description If always, the integration will monitor for new fields by default.
             * @enum {string}
             */
            readonly enabled: "always";
        };
        /**
         * Field Deleted Event
         * @description Configuration for detecting when fields are deleted.
         */
        readonly FieldDeletedEvent: {
            /**
             * @description If always, the integration will monitor for deleted fields by default.
             * @enum {string}
             */
            readonly enabled: "always";
        };
        /**
         * Field Changed Event
         * @description Configuration for detecting when fields are changed.
         */
        readonly FieldChangedEvent: {
            /**
             * @description If always, the integration will monitor for field changes by default.
             * @enum {string}
             */
            readonly enabled: "always";
        };
        /**
         * Watch Schema All Objects
         * @description Schema change event configuration for all objects in the integration.
         */
        readonly WatchSchemaAllObjects: {
            readonly fieldCreated?: components["schemas"]["FieldCreatedEvent"];
            readonly fieldDeleted?: components["schemas"]["FieldDeletedEvent"];
            readonly fieldChanged?: components["schemas"]["FieldChangedEvent"];
        };
        /**
         * Provider schema watch
         * @description Configuration for monitoring provider schema changes.
         */
        readonly WatchSchema: {
            /**
             * @description The destination to send schema change notifications to.
             * @example fieldWatchStream
             */
            readonly destination: string;
            /**
             * @description Cron schedule for checking schema changes. Minimum frequency is once per hour. Defaults to once a day.
             * @default 0 *\/24 * * *
             * @example 0 *\/6 * * *
             */
            readonly schedule: string;
            readonly allObjects: components["schemas"]["WatchSchemaAllObjects"];
        };
        /** Integration */
        readonly "Integration-2": {
            readonly name: string;
            readonly provider: string;
            readonly displayName?: string;
            readonly module?: string;
            readonly read?: components["schemas"]["IntegrationRead"];
            readonly write?: components["schemas"]["IntegrationWrite"];
            readonly proxy?: components["schemas"]["IntegrationProxy"];
            readonly subscribe?: components["schemas"]["IntegrationSubscribe"];
            readonly watchSchema?: components["schemas"]["WatchSchema"];
        };
        readonly HydratedIntegrationFieldExistent: {
            /** @example billingcity */
            readonly fieldName: string;
            /** @example Billing City */
            readonly displayName: string;
            /**
             * @description The field name to map to in the destination.
             * @example billing_city
             */
            readonly mapToName?: string;
            /**
             * @description The display name to map to in the destination.
             * @example Billing City
             */
            readonly mapToDisplayName?: string;
        };
        /** Hydrated Integration Field */
        readonly HydratedIntegrationField: components["schemas"]["HydratedIntegrationFieldExistent"] | components["schemas"]["IntegrationFieldMapping"];
        /**
         * Field Value
         * @description Represents a field value
         */
        readonly FieldValue: {
            /**
             * @description The internal value used by the system
             * @example outbound
             */
            readonly value: string;
            /**
             * @description The human-readable display value
             * @example Outbound Campaign
             */
            readonly displayValue: string;
        };
        /**
         * Field Metadata
         * @description Metadata about a field. Please note that different providers have different levels of support for field metadata. Please reach out to support@withampersand.com if need expanded support for a particular provider.
         */
        readonly FieldMetadata: {
            /**
             * @description The name of the field from the provider API.
             * @example accountid
             */
            readonly fieldName: string;
            /**
             * @description The display name of the field from the provider API.
             * @example Account ID
             */
            readonly displayName: string;
            /**
             * @description A normalized field type
             * @enum {string}
             */
            readonly valueType?: "string" | "boolean" | "singleSelect" | "multiSelect" | "date" | "datetime" | "int" | "float" | "reference" | "other";
            /**
             * @description Raw field type from the provider API.
             * @example timestamp
             */
            readonly providerType?: string;
            /**
             * @description Whether the field is read-only.
             * @example false
             */
            readonly readOnly?: boolean;
            /**
             * @description Whether the field is custom field.
             * @example false
             */
            readonly isCustom?: boolean;
            /**
             * @description Whether the field is required when creating a new record.
             * @example false
             */
            readonly isRequired?: boolean;
            /** @description The list of object types this field references. Only applicable if the providerType is a lookup/reference field. */
            readonly referenceTo?: readonly string[];
            /** @description If the valueType is singleSelect or multiSelect, this is a list of possible values */
            readonly values?: readonly components["schemas"]["FieldValue"][];
        };
        /** Hydrated Integration Object */
        readonly HydratedIntegrationObject: {
            /** @description Error message if there was an issue hydrating this object. */
            readonly error?: string;
            /** @example account */
            readonly objectName: string;
            /** @example Account */
            readonly displayName: string;
            /**
             * @description An object name to map to.
             * @example accounts
             */
            readonly mapToName?: string;
            /**
             * @description A display name to map to.
             * @example Accounts
             */
            readonly mapToDisplayName?: string;
            /** @example accountWebhook */
            readonly destination: string;
            /** @example *\/10 * * * * */
            readonly schedule: string;
            readonly requiredFields?: readonly components["schemas"]["HydratedIntegrationField"][];
            readonly optionalFields?: readonly components["schemas"]["HydratedIntegrationField"][];
            readonly optionalFieldsAuto?: components["schemas"]["OptionalFieldsAutoOption"];
            /**
             * @description This is a map of all fields on the object including their metadata (such as display name and type), the keys of the map are the field names.
             * @example {
             *       "name": {
             *         "fieldName": "name",
             *         "displayName": "Account Name",
             *         "valueType": "string",
             *         "providerType": "string",
             *         "readOnly": false,
             *         "isCustom": false,
             *         "isRequired": true
             *       },
             *       "type": {
             *         "fieldName": "type",
             *         "displayName": "Account Type",
             *         "valueType": "singleSelect",
             *         "providerType": "picklist",
             *         "readOnly": false,
             *         "isCustom": false,
             *         "isRequired": false,
             *         "values": [
             *           {
             *             "value": "prospect",
             *             "displayValue": "Prospect"
             *           },
             *           {
             *             "value": "customer",
             *             "displayValue": "Customer - Direct"
             *           }
             *         ]
             *       }
             *     }
             */
            readonly allFieldsMetadata?: {
                readonly [key: string]: components["schemas"]["FieldMetadata"];
            };
            /**
             * @deprecated
             * @description This is a list of all fields on the object for a particular SaaS instance, including their display names. Prefer using allFieldsMetadata instead.
             */
            readonly allFields?: readonly components["schemas"]["HydratedIntegrationField"][];
            readonly backfill?: components["schemas"]["Backfill"];
        };
        /** Hydrated Read Integration */
        readonly HydratedIntegrationRead: {
            readonly objects?: readonly components["schemas"]["HydratedIntegrationObject"][];
        };
        readonly HydratedIntegrationWriteObject: {
            /** @example account */
            readonly objectName: string;
            /** @example Account */
            readonly displayName: string;
            readonly valueDefaults?: components["schemas"]["ValueDefaults"];
        };
        readonly HydratedIntegrationWrite: {
            readonly objects?: readonly components["schemas"]["HydratedIntegrationWriteObject"][];
        };
        /** Hydrated Proxy Integration */
        readonly HydratedIntegrationProxy: {
            readonly enabled?: boolean;
            /** @description Default is false. If this is set to true, the base URL for the proxy action will be the module's base URL. Otherwise, it is assumed that the base URL is the provider's root base URL. */
            readonly useModule?: boolean;
        };
        /** Hydrated Integration */
        readonly HydratedIntegration: {
            /** @example readSalesforceAccounts */
            readonly name: string;
            /** @example Salesforce Accounts */
            readonly displayName?: string;
            /** @example crm */
            readonly module?: string;
            /** @example salesforce */
            readonly provider: string;
            readonly read?: components["schemas"]["HydratedIntegrationRead"];
            readonly write?: components["schemas"]["HydratedIntegrationWrite"];
            readonly proxy?: components["schemas"]["HydratedIntegrationProxy"];
        };
        /**
         * Selected Value Mappings
         * @description This is a map of values to their mappings. The key is the value delivered to the webhook, the value is the value coming from the provider API.
         * @example {
         *       "open": "scheduled",
         *       "closedWon": "won",
         *       "closedLost": "lost"
         *     }
         */
        readonly SelectedValueMappings: {
            readonly [key: string]: string;
        };
        /** Mapped Value */
        readonly DynamicMappingsInputMappedValue: {
            readonly mappedValue: string;
            readonly mappedDisplayValue: string;
        };
        /** Field Mapping Entry */
        readonly DynamicMappingsInputEntry: {
            /** @description The name of the field in your application. */
            readonly mapToName: string;
            /** @description Optional display name of the field to show the user in the mapping UI. */
            readonly mapToDisplayName?: string;
            /** @description Optional prompt to show the user in the mapping UI. */
            readonly prompt?: string;
            /** @description If you would like the user to map a set of possible values, this is the list of possible values of the field in your application. */
            readonly mappedValues?: readonly components["schemas"]["DynamicMappingsInputMappedValue"][];
            /** @description The name of the field in SaaS provider, if present, then we will not prompt the user to map the field. */
            readonly fieldName?: string;
        };
        /**
         * Dynamic Mappings Input
         * @description An array containing all available dynamic field and value mappings for this installation, provided by the InstallIntegration component. This array represents the complete set of possible mappings, regardless of which ones are currently selected. The actual selected mappings are stored separately in the selectedFieldMappings property.
         */
        readonly DynamicMappingsInput: readonly components["schemas"]["DynamicMappingsInputEntry"][];
        /**
         * Selected Fields Auto Config
         * @description If selectedFieldsAuto is set to all, all fields will be read.
         * @enum {string}
         */
        readonly SelectedFieldsAutoConfig: "all";
        /** Default Period Config */
        readonly DefaultPeriodConfig: {
            /**
             * @description Number of days in past to backfill from. 0 is no backfill. e.g) if 10, then backfill last 10 days of data. Required if fullHistory is not set.
             * @example 30
             */
            readonly days?: number;
            /**
             * @description If true, backfill all history. Required if days is not set.
             * @example false
             */
            readonly fullHistory?: boolean;
        };
        /**
         * Read Filter Value
         * @description The value to filter on. Allowed types are string, boolean, and number.
         * @example active
         */
        readonly ReadFilterValue: unknown;
        /** Read Filter */
        readonly ReadFilter: {
            /**
             * @description The name of the field to filter on.
             * @example status
             */
            readonly fieldName: string;
            /**
             * @description The comparison operator.
             * @example eq
             * @enum {string}
             */
            readonly operator: "eq";
            readonly value?: components["schemas"]["ReadFilterValue"];
        };
        /** Backfill Config */
        readonly BackfillConfig: {
            readonly defaultPeriod: components["schemas"]["DefaultPeriodConfig"];
            /** @description Filters to apply only during backfill. Multiple conditions are joined by AND. Use this when you want different filter behavior for backfill vs. incremental reads. */
            readonly fieldFilters?: readonly components["schemas"]["ReadFilter"][];
        };
        /** Base Read Config Object */
        readonly BaseReadConfigObject: {
            /**
             * @description The name of the object to read from.
             * @example account
             */
            readonly objectName?: string;
            /**
             * @description The schedule for reading the object, in cron syntax.
             * @example *\/15 * * * *
             */
            readonly schedule?: string;
            /**
             * @description If this flag is set to true, scheduled reads associated with this object will be paused, and on-demand reads will not be allowed.
             * @default false
             */
            readonly disabled: boolean;
            /**
             * @description The name of the destination that the result should be sent to.
             * @example accountWebhook
             */
            readonly destination?: string;
            /**
             * @description This is a map of field names to booleans indicating whether they should be read. If a field is already included in `selectedFieldMappings`, it does not need to be included here.
             * @example { phone: true, fax: true }
             */
            readonly selectedFields?: {
                readonly [key: string]: boolean;
            };
            /**
             * @description This is a map of field names to their value mappings.
             * @example {
             *       "stage": {
             *         "open": "scheduled",
             *         "closedWon": "won",
             *         "closedLost": "lost"
             *       }
             *     }
             */
            readonly selectedValueMappings?: {
                readonly [key: string]: components["schemas"]["SelectedValueMappings"];
            };
            readonly dynamicMappingsInput?: components["schemas"]["DynamicMappingsInput"];
            /**
             * @description This is a map of mapToNames to field names. (A mapTo name is the name the builder wants to map a field to when it lands in their destination.)
             * @example { phoneNumber: phone, faxNumber: fax }
             */
            readonly selectedFieldMappings?: {
                readonly [key: string]: string;
            };
            readonly selectedFieldsAuto?: components["schemas"]["SelectedFieldsAutoConfig"];
            readonly backfill?: components["schemas"]["BackfillConfig"];
            /** @description Filters to apply when reading records during incremental reads and backfill. Multiple conditions are joined by AND. Each field can only have one condition. */
            readonly fieldFilters?: readonly components["schemas"]["ReadFilter"][];
        };
        /** Base Read Config */
        readonly BaseReadConfig: {
            /** @description This is a map of object names to their configuration. */
            readonly objects?: {
                readonly [key: string]: components["schemas"]["BaseReadConfigObject"];
            };
        };
        /** Deletion Settings */
        readonly DeletionSettings: {
            /**
             * @description Whether deletion is enabled for this object
             * @example true
             */
            readonly enabled: boolean;
        };
        /** Value Default String */
        readonly ValueDefaultString: {
            /** @description The value to be used as a default. */
            readonly value: string;
            /**
             * @description Whether the default value should be applied when updating a record.
             *     If set to `always`, the default value will be applied when updating a record.
             *     If set to `never`, the default value will not be applied when updating a record,
             *     only when creating a record.
             *     If unspecified, then `always` is assumed.
             * @enum {string}
             */
            readonly applyOnUpdate?: "always" | "never";
        };
        /** Value Default Integer */
        readonly ValueDefaultInteger: {
            /** @description The value to be used as a default. */
            readonly value: number;
            /**
             * @description Whether the default value should be applied when updating a record.
             *     If set to `always`, the default value will be applied when updating a record.
             *     If set to `never`, the default value will not be applied when updating a record,
             *     only when creating a record.
             *     If unspecified, then `always` is assumed.
             * @enum {string}
             */
            readonly applyOnUpdate?: "always" | "never";
        };
        /** Value Default Boolean */
        readonly ValueDefaultBoolean: {
            /** @description The value to be used as a default. */
            readonly value: boolean;
            /**
             * @description Whether the default value should be applied when updating a record.
             *     If set to `always`, the default value will be applied when updating a record.
             *     If set to `never`, the default value will not be applied when updating a record,
             *     only when creating a record.
             *     If unspecified, then `always` is assumed.
             * @enum {string}
             */
            readonly applyOnUpdate?: "always" | "never";
        };
        /**
         * Value Default (Legacy)
         * @deprecated
         */
        readonly ValueDefault: components["schemas"]["ValueDefaultString"] | components["schemas"]["ValueDefaultInteger"] | components["schemas"]["ValueDefaultBoolean"];
        /**
         * Default value for a field
         * @description Only use one of stringValue, integerValue, booleanValue.
         */
        readonly FieldSettingDefault: {
            /** @description The default string value to apply to a field */
            readonly stringValue?: string;
            /** @description The default integer value to apply to a field */
            readonly integerValue?: number;
            /** @description The default boolean value to apply to a field */
            readonly booleanValue?: boolean;
        };
        /** Field setting */
        readonly FieldSetting: {
            readonly default?: components["schemas"]["FieldSettingDefault"];
            /**
             * @description Whether the default value should be applied when creating a record.
             * @default always
             * @enum {string}
             */
            readonly writeOnCreate: "always" | "never";
            /**
             * @description Whether the default value should be applied when updating a record.
             *     - always: Always write to the field on update
             *     - never: Never write to the field on update
             *     - ifEmpty: Only write to the field if it's currently empty (unset or empty string).
             * @default always
             * @enum {string}
             */
            readonly writeOnUpdate: "always" | "never" | "ifEmpty";
        };
        /** Base Write Config Object */
        readonly BaseWriteConfigObject: {
            /**
             * @description The name of the object to write to.
             * @example account
             */
            readonly objectName: string;
            readonly deletionSettings?: components["schemas"]["DeletionSettings"];
            /**
             * @deprecated
             * @description This is a map of field names to default values. These values will be used when writing to the object.
             */
            readonly selectedValueDefaults?: {
                readonly [key: string]: components["schemas"]["ValueDefault"];
            };
            /** @description This is a map of field names to their settings. */
            readonly selectedFieldSettings?: {
                readonly [key: string]: components["schemas"]["FieldSetting"];
            };
        };
        /** Base Write Config */
        readonly BaseWriteConfig: {
            /** @description This is a map of object names to their configuration. */
            readonly objects?: {
                readonly [key: string]: components["schemas"]["BaseWriteConfigObject"];
            };
        };
        /** Base Proxy Config */
        readonly BaseProxyConfig: {
            readonly enabled?: boolean;
        };
        /** Base Config Content */
        readonly BaseConfigContent: {
            /**
             * @description The SaaS API that we are integrating with.
             * @example hubspot
             */
            readonly provider?: string;
            readonly read?: components["schemas"]["BaseReadConfig"];
            readonly write?: components["schemas"]["BaseWriteConfig"];
            readonly proxy?: components["schemas"]["BaseProxyConfig"];
        };
        /** Read Config Object */
        readonly ReadConfigObject: components["schemas"]["BaseReadConfigObject"] & Record<string, never>;
        /** Read Config */
        readonly ReadConfig: components["schemas"]["BaseReadConfig"] & {
            readonly objects: {
                readonly [key: string]: components["schemas"]["ReadConfigObject"];
            };
        };
        /** Write Config Object */
        readonly WriteConfigObject: components["schemas"]["BaseWriteConfigObject"] & Record<string, never>;
        /** Write Config */
        readonly WriteConfig: components["schemas"]["BaseWriteConfig"] & {
            readonly objects?: {
                readonly [key: string]: components["schemas"]["WriteConfigObject"];
            };
        };
        /** Create Event */
        readonly ConfigCreateEvent: {
            /**
             * @description Conditions to enable create events.
             * @enum {string}
             */
            readonly enabled: "always" | "never";
        };
        /** Update Event */
        readonly ConfigUpdateEvent: {
            /**
             * @description Conditions to enable update events.
             * @example always
             * @enum {string}
             */
            readonly enabled: "always" | "never";
            /**
             * @description Whether to watch fields all fields automatically.
             * @example all
             * @enum {string}
             */
            readonly watchFieldsAuto?: "all";
            /**
             * @description The fields that should be watched.
             * @example [
             *       "name",
             *       "description"
             *     ]
             */
            readonly requiredWatchFields?: readonly string[];
        };
        /** Delete Event */
        readonly ConfigDeleteEvent: {
            /**
             * @description Conditions to enable delete events.
             * @example always
             * @enum {string}
             */
            readonly enabled: "always" | "never";
        };
        /** Other Events */
        readonly ConfigOtherEvents: readonly string[];
        /**
         * Quota Optimization Config
         * @description Reduces API quota consumption for update events by filtering irrelevant change events at the source, so only updates that affect watched fields are delivered. Requires `updateEvent.requiredWatchFields` to be non-empty; it cannot be used with `updateEvent.watchFieldsAuto: all`. Currently supported for Salesforce.
         */
        readonly QuotaOptimizationConfig: {
            /**
             * @description Whether quota optimization is enabled for this object.
             * @example true
             */
            readonly enabled: boolean;
        };
        /**
         * Subscribe Provider Options
         * @description Subscribe options that only apply to certain providers. Each option documents which providers support it; setting one for a provider that does not support it is rejected.
         */
        readonly SubscribeProviderOptions: {
            readonly quotaOptimization?: components["schemas"]["QuotaOptimizationConfig"];
        };
        /** Base Subscribe Config Object */
        readonly BaseSubscribeConfigObject: {
            /**
             * @description Whether to inherit fields and mappings from the read config.
             * @example true
             */
            readonly inheritFieldsAndMappings: boolean;
            /**
             * @description The name of the object to subscribe to.
             * @example account
             */
            readonly objectName: string;
            /**
             * @description The name of the destination that the result should be sent to.
             * @example accountWebhook
             */
            readonly destination: string;
            readonly createEvent?: components["schemas"]["ConfigCreateEvent"];
            readonly updateEvent?: components["schemas"]["ConfigUpdateEvent"];
            readonly deleteEvent?: components["schemas"]["ConfigDeleteEvent"];
            readonly otherEvents?: components["schemas"]["ConfigOtherEvents"];
            readonly providerOptions?: components["schemas"]["SubscribeProviderOptions"];
        };
        /** Base Subscribe Config */
        readonly BaseSubscribeConfig: {
            readonly objects?: {
                readonly [key: string]: components["schemas"]["BaseSubscribeConfigObject"];
            };
        };
        /** Subscribe Config Object */
        readonly SubscribeConfigObject: components["schemas"]["BaseSubscribeConfigObject"] & Record<string, never>;
        /** Subscribe Config */
        readonly SubscribeConfig: components["schemas"]["BaseSubscribeConfig"] & {
            readonly objects: {
                readonly [key: string]: components["schemas"]["SubscribeConfigObject"];
            };
        };
        /** Config Content */
        readonly ConfigContent: components["schemas"]["BaseConfigContent"] & {
            readonly read?: components["schemas"]["ReadConfig"];
            readonly write?: components["schemas"]["WriteConfig"];
            readonly subscribe?: components["schemas"]["SubscribeConfig"];
        };
        /** Update Installation Config Content */
        readonly UpdateInstallationConfigContent: components["schemas"]["BaseConfigContent"] & {
            readonly subscribe?: components["schemas"]["BaseSubscribeConfig"];
        };
        /**
         * Auth Type
         * @description The type of authentication required by the provider.
         * @enum {string}
         */
        readonly AuthType: "oauth2" | "apiKey" | "basic" | "jwt" | "custom" | "none";
        /**
         * Token Metadata Fields - Other fields
         * @description Additional fields to extract and transform from the token response
         */
        readonly TokenMetadataFieldsOtherFields: readonly {
            /** @description The internal name of the field */
            readonly name: string;
            /** @description The human-readable name of the field */
            readonly displayName: string;
            /**
             * @description The path to the field in the token response (accepts dot notation for nested fields)
             * @example owner.siteId
             */
            readonly path: string;
            /**
             * @description A regex expression to capture the value that we need from the path. There must be only one capture group named 'result' in the expression. If not provided, will cause an error.
             * @example https:\/\/(?<result>[^.]+)\.docusign\.net
             */
            readonly capture?: string;
        }[];
        /**
         * Token Metadata Fields
         * @description Fields to be used to extract token metadata from the token response.
         */
        readonly TokenMetadataFields: {
            /** @example account-id */
            readonly workspaceRefField?: string;
            /** @example user-id */
            readonly consumerRefField?: string;
            /** @example scopes */
            readonly scopesField?: string;
            readonly otherFields?: components["schemas"]["TokenMetadataFieldsOtherFields"];
        };
        /**
         * Access Token Header Options
         * @description Configuration for access token in header. Must be provided if type is in-header.
         */
        readonly AccessTokenOptsHeader: {
            /**
             * @description The name of the header to be used for the access token.
             * @example X-Access-Token
             */
            readonly name: string;
            /**
             * @description The prefix to be added to the access token value when it is sent in the header.
             * @example Bearer
             */
            readonly valuePrefix?: string;
        };
        /**
         * Oauth2 Access Token Options
         * @description Configuration that defines how an OAuth 2.0 access token is attached to
         *     outbound API requests. When provided, this configuration overrides the
         *     default access-token handling behavior for the connector.
         */
        readonly AccessTokenOpts: {
            /**
             * @description How the access token should be attached to requests.
             * @enum {string}
             */
            readonly attachmentType: "accessTokenHeaderAttachment";
            readonly header?: components["schemas"]["AccessTokenOptsHeader"];
            /**
             * @description URL with more information about how access token is used.
             * @example https://docs.example.com/oauth2-access-token-usage
             */
            readonly docsURL?: string;
        };
        /**
         * OAuth2 Options
         * @description Configuration for OAuth2.0. Must be provided if authType is oauth2.
         */
        readonly Oauth2Opts: {
            /** @enum {string} */
            readonly grantType: "authorizationCode" | "authorizationCodePKCE" | "clientCredentials" | "password";
            /**
             * @description The authorization URL.
             * @example https://login.salesforce.com/services/oauth2/authorize
             */
            readonly authURL?: string;
            /**
             * @description The token URL.
             * @example https://login.salesforce.com/services/oauth2/token
             */
            readonly tokenURL: string;
            /**
             * @description Whether scopes are required to be known ahead of the OAuth flow.
             * @example true
             */
            readonly explicitScopesRequired: boolean;
            /**
             * @description Whether the workspace is required to be known ahead of the OAuth flow.
             * @example true
             */
            readonly explicitWorkspaceRequired: boolean;
            /**
             * @description A list of URLs that represent the audience for the token, which is needed for some client credential grant flows.
             * @example [
             *       "https://api.mparticle.com"
             *     ]
             */
            readonly audience?: readonly string[];
            /**
             * @description Maps input scopes to their full OAuth scope values with template variable support. Scopes not in this map are passed through unchanged. Needed for some providers.
             * @example {
             *       "default": "https://{{.workspace}}.api.com/default"
             *     }
             */
            readonly scopeMappings?: {
                readonly [key: string]: string;
            };
            readonly tokenMetadataFields: components["schemas"]["TokenMetadataFields"];
            /**
             * @description URL with more information about where to retrieve Client ID and Client Secret, etc.
             * @example https://docs.example.com/client-credentials
             */
            readonly docsURL?: string;
            /**
             * @example {
             *       "access_type": "offline",
             *       "duration": "permanent"
             *     }
             */
            readonly authURLParams?: {
                readonly [key: string]: string;
            };
            readonly accessTokenOpts?: components["schemas"]["AccessTokenOpts"];
            /**
             * @description How many hours between proactive token keep-alive refreshes for this provider.
             *     Token-manager adds a random stagger offset on top. If absent, defaults to 24.
             * @example 120
             */
            readonly keepAliveIntervalHours?: number;
        };
        /**
         * API Key Query Options
         * @description Configuration for API key in query parameter. Must be provided if type is in-query.
         */
        readonly ApiKeyOptsQuery: {
            /**
             * @description The name of the query parameter to be used for the API key.
             * @example api_key
             */
            readonly name: string;
        };
        /**
         * API Key Header Options
         * @description Configuration for API key in header. Must be provided if type is in-header.
         */
        readonly ApiKeyOptsHeader: {
            /**
             * @description The name of the header to be used for the API key.
             * @example X-Api-Key
             */
            readonly name: string;
            /**
             * @description The prefix to be added to the API key value when it is sent in the header.
             * @example Bearer
             */
            readonly valuePrefix?: string;
        };
        /**
         * API Key Options
         * @description Configuration for API key. Must be provided if authType is apiKey.
         */
        readonly ApiKeyOpts: {
            /**
             * @description How the API key should be attached to requests.
             * @enum {string}
             */
            readonly attachmentType: "query" | "header";
            readonly query?: components["schemas"]["ApiKeyOptsQuery"];
            readonly header?: components["schemas"]["ApiKeyOptsHeader"];
            /**
             * @description URL with more information about how to get or use an API key.
             * @example https://docs.example.com/api-key
             */
            readonly docsURL?: string;
        };
        /**
         * API Key as Basic Options
         * @description when this object is present, it means that this provider uses Basic Auth to actually collect an API key
         */
        readonly ApiKeyAsBasicOpts: {
            /**
             * @description whether the API key should be used as the username or password.
             * @example username
             * @enum {string}
             */
            readonly fieldUsed?: "username" | "password";
            /**
             * @description How to transform the API key in to a basic auth user:pass string. The %s is replaced with the API key value.
             * @example api:%s
             */
            readonly keyFormat?: string;
        };
        /**
         * Basic Auth Options
         * @description Configuration for Basic Auth. Optional.
         */
        readonly BasicAuthOpts: {
            /**
             * @description If true, the provider uses an API key which then gets encoded as a basic auth user:pass string.
             * @example true
             */
            readonly apiKeyAsBasic?: boolean;
            readonly apiKeyAsBasicOpts?: components["schemas"]["ApiKeyAsBasicOpts"];
            /**
             * @description URL with more information about how to get or use an API key.
             * @example https://docs.example.com/api-key
             */
            readonly docsURL?: string;
        };
        /**
         * Custom Auth Header
         * @description A custom header to be used for authentication. Automatically added by the backend.
         */
        readonly CustomAuthHeader: {
            /**
             * @description The name of the header.
             * @example X-Custom-Auth
             */
            readonly name: string;
            /**
             * @description The value of the header, represented as a Golang text/template expression. Only the backend will interpret this.
             * @example Bearer {{ .token }}
             */
            readonly valueTemplate: string;
        };
        /**
         * Custom Auth Query Parameter
         * @description A custom query parameter to be used for authentication. Automatically added by the backend.
         */
        readonly CustomAuthQueryParam: {
            /**
             * @description The name of the query parameter.
             * @example custom_auth
             */
            readonly name: string;
            /**
             * @description The value of the query parameter, represented as a Golang text/template expression. Only the backend will interpret this.
             * @example {{ .token }}
             */
            readonly valueTemplate: string;
        };
        /**
         * Custom Auth Input Option
         * @description A selectable option for a custom auth input whose fieldType is "select".
         */
        readonly CustomAuthInputOption: {
            /**
             * @description The value stored when this option is selected.
             * @example prod
             */
            readonly value: string;
            /**
             * @description The human-readable label shown for this option.
             * @example Production
             */
            readonly label: string;
        };
        /**
         * Custom Auth Input
         * @description A custom input field for authentication. This is used by the frontend to dynamically render input fields for custom auth. The backend will not interpret this. It will however receive the value of this field before making a request (in the connection secrets).
         */
        readonly CustomAuthInput: {
            /**
             * @description The internal identifier for the custom auth input field.
             * @example custom_auth_input
             */
            readonly name: string;
            /**
             * @description The human-readable name for the custom auth input field.
             * @example Custom Auth Input
             */
            readonly displayName: string;
            /**
             * @description Some helpful text or context to be displayed to the user when asking for this input.
             * @example See Authorization section of provider docs to obtain this value
             */
            readonly prompt?: string;
            /**
             * @description URL with details about this authentication mechanism and how to use it. Might be specific to this field, or a general URL for the provider. Optional.
             * @example https://docs.example.com/custom-auth-input
             */
            readonly docsURL?: string;
            /**
             * @description How the frontend should render this input. "fieldTypeText" is an unmasked field (not sensitive), "fieldTypePassword" is a masked field (sensitive), and "fieldTypeSelect" is a dropdown populated from options. Defaults to "fieldTypePassword" when omitted.
             * @example fieldTypePassword
             * @enum {string}
             */
            readonly fieldType?: "fieldTypeText" | "fieldTypePassword" | "fieldTypeSelect";
            /** @description The dropdown options, used only when fieldType is "select". */
            readonly options?: readonly components["schemas"]["CustomAuthInputOption"][];
        };
        /**
         * Custom Auth Options
         * @description Configuration for custom auth. Optional.
         */
        readonly CustomAuthOpts: {
            /** @description A list of custom headers to be used for authentication. The backend will add these headers. */
            readonly headers?: readonly components["schemas"]["CustomAuthHeader"][];
            /** @description A list of custom query parameters to be used for authentication. The backend will add these query parameters. */
            readonly queryParams?: readonly components["schemas"]["CustomAuthQueryParam"][];
            /** @description A list of custom input fields for authentication. The frontend will render these input fields and the backend will receive the values of these fields before making a request. */
            readonly inputs?: readonly components["schemas"]["CustomAuthInput"][];
            /** @description Input fields the builder configures on their provider app (e.g. client secrets, subscription keys) rather than the consumer. Routed to storage by fieldType. Optional. */
            readonly providerInputs?: readonly components["schemas"]["CustomAuthInput"][];
            /**
             * @description Whether this provider uses a multi-step custom auth flow (browser redirects and/or server-side credential-exchange calls) driven by the /custom-auth/connect endpoint, rather than static header/query-param injection. The step definitions and handlers live in the connectors library, not the catalog; this flag is the signal that lets clients tell "multi-step custom" apart from plain "custom" at a glance.
             * @example true
             */
            readonly multiStep?: boolean;
        };
        /** Bulk Write Support */
        readonly BulkWriteSupport: {
            readonly insert: boolean;
            readonly update: boolean;
            readonly upsert: boolean;
            readonly delete: boolean;
        };
        /** Subscribe Support */
        readonly SubscribeSupport: {
            readonly create?: boolean;
            readonly update?: boolean;
            readonly delete?: boolean;
            readonly passThrough?: boolean;
        };
        readonly BatchWriteSupportConfig: {
            /** @description Whether this type of batch write operation is supported */
            readonly supported: boolean;
            /** @description The default number of records supported in a batch */
            readonly defaultRecordLimit?: number;
            /** @description Defines object-level overrides for batch record limits. Keys represent object names, and values specify the maximum number of records per batch for those objects. */
            readonly objectRecordLimits?: {
                readonly [key: string]: number;
            };
        };
        readonly BatchWriteSupport: {
            readonly delete: components["schemas"]["BatchWriteSupportConfig"];
            readonly create: components["schemas"]["BatchWriteSupportConfig"];
            readonly update: components["schemas"]["BatchWriteSupportConfig"];
            readonly upsert: components["schemas"]["BatchWriteSupportConfig"];
        };
        /** Supported Operators for Search Action */
        readonly SearchOperators: {
            readonly equals: boolean;
        };
        /** Search Support */
        readonly SearchSupport: {
            readonly operators: components["schemas"]["SearchOperators"];
        };
        /**
         * Support
         * @description The supported features for the provider.
         */
        readonly Support: {
            readonly bulkWrite: components["schemas"]["BulkWriteSupport"];
            readonly proxy: boolean;
            readonly read: boolean;
            readonly subscribe: boolean;
            readonly write: boolean;
            readonly delete: boolean;
            readonly subscribeSupport?: components["schemas"]["SubscribeSupport"];
            readonly batchWrite?: components["schemas"]["BatchWriteSupport"];
            readonly search: components["schemas"]["SearchSupport"];
        };
        /**
         * Auth Health Check
         * @description A URL to check the health of a provider's credentials. It's used to see if the credentials are valid and if the provider is reachable.
         */
        readonly AuthHealthCheck: {
            /**
             * @description a no-op URL to check the health of the credentials. The URL MUST not mutate any state. If the provider doesn't have such an endpoint, then don't provide credentialsHealthCheck.
             * @example https://api.example.com/health-check
             */
            readonly url: string;
            /**
             * @description The HTTP method to use for the health check. If not set, defaults to GET.
             * @example GET
             */
            readonly method?: string;
            /**
             * @description The HTTP status codes that indicate a successful health check. If not set, defaults to 200 and 204.
             * @example [
             *       200,
             *       204
             *     ]
             */
            readonly successStatusCodes?: readonly number[];
        };
        /**
         * Media Type Regular
         * @description Media for light/regular mode.
         */
        readonly MediaTypeRegular: {
            /**
             * @description URL to the icon for the provider.
             * @example https://example.com/icon.png
             */
            readonly iconURL?: string;
            /**
             * @description URL to the logo for the provider.
             * @example https://example.com/logo.png
             */
            readonly logoURL?: string;
        };
        /**
         * Media Type Dark Mode
         * @description Media to be used in dark mode.
         */
        readonly MediaTypeDarkMode: {
            /**
             * @description URL to the icon for the provider that is to be used in dark mode.
             * @example https://example.com/icon.png
             */
            readonly iconURL?: string;
            /**
             * @description URL to the logo for the provider that is to be used in dark mode.
             * @example https://example.com/logo.png
             */
            readonly logoURL?: string;
        };
        /** Media */
        readonly Media: {
            readonly regular?: components["schemas"]["MediaTypeRegular"];
            readonly darkMode?: components["schemas"]["MediaTypeDarkMode"];
        };
        /** Labels */
        readonly Labels: {
            readonly [key: string]: string;
        };
        /**
         * Subscribe Requirements
         * @description Declares which auxiliary steps a provider requires to support subscriptions, beyond the per-object subscribe call itself.
         */
        readonly SubscribeRequirements: {
            /** @description Whether the provider requires a one-time registration step that is shared across all subscribed objects. The subscribe method is object-scoped, so if a separate API call is needed beyond per-object configuration (e.g., registering a single webhook/endpoint that all object subscriptions hang off of), registration is required. */
            readonly registration?: boolean;
            /** @description Whether the subscription requires periodic maintenance. Some providers expire subscriptions/watches after a fixed TTL, so the subscription must be renewed on a schedule to remain active. */
            readonly maintenance?: boolean;
            /** @description Whether subscribing requires a third-party setup step that the connector instance itself cannot perform. Examples: Salesforce requires AWS EventBridge configuration; Gmail requires a Google Pub/Sub topic to be configured. Any configuration that must happen outside the connector falls into post-process. */
            readonly postProcess?: boolean;
            /** @description Whether the provider supports programmatic subscription via API. If false, provider may still support webhooks via manual configuration in UI. */
            readonly subscribeByAPI?: boolean;
        };
        /** Module Info */
        readonly ModuleInfo: {
            readonly displayName: string;
            readonly baseURL: string;
            readonly support: components["schemas"]["Support"];
            readonly subscribeRequirements?: components["schemas"]["SubscribeRequirements"];
        };
        /**
         * Modules that this provider supports
         * @description The registry of provider modules.
         */
        readonly Modules: {
            readonly [key: string]: components["schemas"]["ModuleInfo"];
        };
        /**
         * Module Dependency
         * @description Dependency for a single module.
         */
        readonly ModuleDependency: Record<string, never>;
        /**
         * Module Dependencies
         * @description Specifies which modules REQUIRE (depend on) this metadata item. This field lists the modules that depend on/require the metadata item. Example: If "workspace" metadata has moduleDependencies: {crm: {}}, it means the CRM module requires the workspace metadata to function. Each module that needs this metadata item MUST be specified in this field. Even if it is all modules. The empty ModuleDependency {} is for future-proofing in case we need to add additional configuration options.
         */
        readonly ModuleDependencies: {
            readonly [key: string]: components["schemas"]["ModuleDependency"];
        };
        /** Metadata Item (as input) */
        readonly MetadataItemInput: {
            /** @description The internal identifier for the metadata field */
            readonly name: string;
            /** @description The human-readable name for the field */
            readonly displayName?: string;
            /** @description Human-readable description that can contain instructions on how to collect metadata */
            readonly prompt?: string;
            /** @description Default value for this metadata item */
            readonly defaultValue?: string;
            /**
             * @description URL with more information about how to locate this value
             * @example https://example.com/how-to-find-subdomain
             */
            readonly docsURL?: string;
            /** @description Which modules require this metadata item (see ModuleDependencies for naming clarification). */
            readonly moduleDependencies?: components["schemas"]["ModuleDependencies"];
        };
        /** Metadata Item (fetched post authentication) */
        readonly MetadataItemPostAuthentication: {
            /** @description The internal identifier for the metadata field */
            readonly name: string;
            /** @description Which modules require this metadata item (see ModuleDependencies for naming clarification). */
            readonly moduleDependencies?: components["schemas"]["ModuleDependencies"];
        };
        /**
         * Provider Metadata
         * @description Provider metadata that needs to be given by the user or fetched by the connector post authentication for the connector to work.
         */
        readonly "ProviderMetadata-2": {
            /** @description Metadata provided as manual input */
            readonly input?: readonly components["schemas"]["MetadataItemInput"][];
            /** @description Metadata fetched by the connector post authentication */
            readonly postAuthentication?: readonly components["schemas"]["MetadataItemPostAuthentication"][];
        };
        /**
         * Provider App Metadata
         * @description Describes the provider-app-level fields that the Ampersand dashboard should collect from the builder when creating a ProviderApp for this provider. These descriptors tell the dashboard which form fields to render; the submitted values are stored in ProviderApp.metadata.
         */
        readonly "ProviderAppMetadata-2": {
            /** @description Descriptors for fields stored in ProviderApp.metadata.authQueryParams (e.g., optional_scope for HubSpot). */
            readonly authQueryParams?: readonly components["schemas"]["MetadataItemInput"][];
            /** @description Descriptors for fields stored in ProviderApp.metadata.providerParams (e.g., packageInstallURL for Salesforce, gcpProjectId for Gmail). */
            readonly providerParams?: readonly components["schemas"]["MetadataItemInput"][];
        };
        /** Provider Info */
        readonly ProviderInfo: {
            readonly name: string;
            readonly authType: components["schemas"]["AuthType"];
            /** @description The base URL for making API requests. */
            readonly baseURL: string;
            readonly defaultModule: string;
            readonly oauth2Opts?: components["schemas"]["Oauth2Opts"];
            readonly apiKeyOpts?: components["schemas"]["ApiKeyOpts"];
            readonly basicOpts?: components["schemas"]["BasicAuthOpts"];
            readonly customOpts?: components["schemas"]["CustomAuthOpts"];
            readonly support: components["schemas"]["Support"];
            readonly authHealthCheck?: components["schemas"]["AuthHealthCheck"];
            /**
             * @description The display name of the provider, if omitted, defaults to provider name.
             * @example Zendesk Chat
             */
            readonly displayName?: string;
            /**
             * @description If true, we require additional information after auth to start making requests.
             * @example true
             */
            readonly postAuthInfoNeeded?: boolean;
            readonly media?: components["schemas"]["Media"];
            readonly labels?: components["schemas"]["Labels"];
            readonly subscribeRequirements?: components["schemas"]["SubscribeRequirements"];
            readonly modules?: components["schemas"]["Modules"];
            readonly metadata?: components["schemas"]["ProviderMetadata-2"];
            readonly providerAppMetadata?: components["schemas"]["ProviderAppMetadata-2"];
        };
        /** Catalog Type */
        readonly CatalogType: {
            readonly [key: string]: components["schemas"]["ProviderInfo"];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    readonly oauthConnect: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The Ampersand project ID or project name.
                     * @example my-project
                     */
                    readonly projectIdOrName: string;
                    /**
                     * @description The provider that this app connects to.
                     * @example salesforce
                     */
                    readonly provider: string;
                    /**
                     * @description Your application's identifier for the organization or workspace that this connection belongs to (e.g. an org ID or team ID).
                     * @example group-123
                     */
                    readonly groupRef: string;
                    /**
                     * @description The display name for the group. Defaults to groupRef if not provided.
                     * @example Organization Name
                     */
                    readonly groupName?: string;
                    /**
                     * @description The ID that your app uses to identify the user whose SaaS credential will be used for this OAuth flow.
                     * @example user_123456
                     */
                    readonly consumerRef: string;
                    /**
                     * @description The display name for the consumer. Defaults to consumerRef if not provided.
                     * @example John Doe
                     */
                    readonly consumerName?: string;
                    /**
                     * @description The identifier for the provider workspace (e.g. the Salesforce subdomain).
                     * @example acme-corp
                     */
                    readonly providerWorkspaceRef?: string;
                    /**
                     * @description Additional provider-specific metadata required by certain providers (e.g., account ID for NetSuite). See provider documentation for which fields are needed.
                     * @example {
                     *       "accountId": {
                     *         "value": "1234567890",
                     *         "source": "input"
                     *       }
                     *     }
                     */
                    readonly providerMetadata?: components["schemas"]["ProviderMetadata"];
                    /**
                     * @description ID of the provider app, returned from the [Create Provider App endpoint](https://docs.withampersand.com/reference/provider-apps/create-provider-app). If omitted, the default provider app that was set up on the Ampersand Dashboard is assumed.
                     * @example 32356abe-d2fd-49c7-9030-abdcbc6456d4
                     */
                    readonly providerAppId?: string;
                    /**
                     * @description This boolean flag is used by the UI library internally. Set it to false or omit it when manually calling this API.
                     * @example false
                     */
                    readonly enableCSRFProtection?: boolean;
                };
            };
        };
        readonly responses: {
            /** @description OK */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "text/plain": string;
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly customAuthConnect: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["CustomAuthConnectRequest"];
            };
        };
        readonly responses: {
            /** @description OK */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["CustomAuthConnectResponse"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly oauthUpdate: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description Ampersand project ID or name. */
                readonly projectIdOrName: string;
                /** @description The ID of the connection to update. */
                readonly connectionId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description URL to initiate OAuth flow */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "text/plain": string;
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listProjects: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of projects */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Project"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createProject: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                /**
                 * @example {
                 *       "appName": "MailMonkey",
                 *       "name": "mailmonkey-staging",
                 *       "orgId": "9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79"
                 *     }
                 */
                readonly "application/json": {
                    /**
                     * @description The display name of your application, shown to end users during the connection flow.
                     * @example MailMonkey
                     */
                    readonly appName: string;
                    /**
                     * @description The unique name for the project. Must contain only letters, numbers, and hyphens. Values are normalized to lowercase on save.
                     * @example mailmonkey-staging
                     */
                    readonly name: string;
                    /**
                     * @description The ID of the organization this project belongs to. Obtain this from the Ampersand Dashboard or by calling `GET /orgs`.
                     * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                     */
                    readonly orgId: string;
                };
            };
        };
        readonly responses: {
            /** @description The newly created project. */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Project"];
                };
            };
            /** @description Unprocessable Entity — the request body failed validation (e.g. invalid characters in project name, missing required fields). */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getProject: {
        readonly parameters: {
            readonly query?: {
                /** @description If true, the response includes the project's entitlements (plan-based feature flags). Defaults to false. */
                readonly includeEntitlements?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The requested project. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Project"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateProject: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                /**
                 * @example {
                 *       "updateMask": [
                 *         "appName"
                 *       ],
                 *       "project": {
                 *         "appName": "MailMonkey Pro"
                 *       }
                 *     }
                 */
                readonly "application/json": {
                    /**
                     * @description Array of field paths specifying which fields to update. Each path must have a
                     *     corresponding value in the `project` object. A field included in `project` but
                     *     not listed here will be ignored. Allowed values:
                     *     - `appName` - the display name of the application, shown to end users during the connection flow.
                     *     - `name` - the unique project identifier (must be unique within your organization).
                     * @example [
                     *       "appName"
                     *     ]
                     */
                    readonly updateMask: readonly string[];
                    /**
                     * @description The project fields to update. Only fields whose paths are listed in `updateMask`
                     *     will be applied; all other fields in this object are ignored.
                     */
                    readonly project: {
                        /**
                         * @description The display name of the application, shown to end users during the connection flow.
                         * @example MailMonkey
                         */
                        readonly appName?: string;
                        /**
                         * @description The unique name for the project. Must be unique within the organization.
                         * @example mailmonkey-staging
                         */
                        readonly name?: string;
                    };
                };
            };
        };
        readonly responses: {
            /** @description The updated project. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Project"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listProviderApps: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description TThe Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of provider apps */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["ProviderApp"][];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createProviderApp: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The ID used by the provider to identify the app (optional).
                     * @example external-id-123
                     */
                    readonly externalRef?: string;
                    /**
                     * @description The SaaS provider that this app connects to.
                     * @example salesforce
                     */
                    readonly provider: string;
                    /**
                     * @description The OAuth client ID for this app.
                     * @example client-id-123
                     */
                    readonly clientId: string;
                    /**
                     * @description The OAuth client secret for this app.
                     * @example client-secret-123
                     */
                    readonly clientSecret: string;
                    /** @description The OAuth scopes for this app. */
                    readonly scopes?: readonly string[];
                    readonly metadata?: components["schemas"]["ProviderAppMetadata"];
                };
            };
        };
        readonly responses: {
            /** @description The newly created provider app */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ProviderApp"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteProviderApp: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description ID of the provider app, returned by the CreateProviderApp call.
                 * @example 32356abe-d2fd-49c7-9030-abdcbc6456d4
                 */
                readonly providerAppId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateProviderApp: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description ID of the provider app, returned by the CreateProviderApp call.
                 * @example 32356abe-d2fd-49c7-9030-abdcbc6456d4
                 */
                readonly providerAppId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description Array of field paths specifying which fields to update. Allowed values include:
                     *     - externalRef
                     *     - clientId
                     *     - clientSecret
                     *     - provider
                     *     - scopes
                     *     - metadata
                     * @example [
                     *       "externalRef",
                     *       "clientId"
                     *     ]
                     */
                    readonly updateMask: readonly string[];
                    /** @description The provider app fields to update. (Only include the fields you'd like to update.) */
                    readonly providerApp: {
                        /**
                         * @description The ID used by the provider to identify the app (optional).
                         * @example external-id-123
                         */
                        readonly externalRef?: string;
                        /**
                         * @description The SaaS provider that this app connects to.
                         * @example salesforce
                         */
                        readonly provider?: string;
                        /**
                         * @description The OAuth client ID for this app.
                         * @example client-id-123
                         */
                        readonly clientId?: string;
                        /**
                         * @description The OAuth client secret for this app.
                         * @example client-secret-123
                         */
                        readonly clientSecret?: string;
                        /** @description The OAuth scopes for this app. */
                        readonly scopes?: readonly string[];
                        readonly metadata?: components["schemas"]["ProviderAppMetadata"];
                    };
                };
            };
        };
        readonly responses: {
            /** @description The updated provider app */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ProviderApp"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listIntegrations: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of integrations */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Integration"][];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createIntegration: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The integration name.
                     * @example my-integration
                     */
                    readonly name: string;
                    /** @description The provider name (e.g. "salesforce", "hubspot") */
                    readonly provider: string;
                    readonly latestRevision: {
                        /**
                         * @description The spec version string.
                         * @example 1.0.0
                         */
                        readonly specVersion: string;
                        readonly content: components["schemas"]["Integration-2"];
                    };
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getIntegration: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The integration ID or name.
                 * @example 123e4567-e89b-12d3-a456-426614174000
                 */
                readonly integrationIdOrName: string;
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The integration */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Integration"];
                };
            };
            /** @description Integration not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteIntegration: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The integration ID or name.
                 * @example 123e4567-e89b-12d3-a456-426614174000
                 */
                readonly integrationIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Integration not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly batchUpsertIntegrations: {
        readonly parameters: {
            readonly query?: {
                /** @description Defaults to false. This flag controls whether to perform destructive actions when deploying integrations, like pausing all read actions for an object that was removed in the latest revision. */
                readonly destructive?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description URL of where a zip of the source files can be downloaded (e.g. Google Cloud Storage URL).
                     * @example https://storage.googleapis.com/my-bucket/source-files/integration-v1.2.3.zip
                     */
                    readonly sourceZipUrl?: string;
                    /** @description A YAML string that defines the integrations. */
                    readonly sourceYaml?: string;
                };
            };
        };
        readonly responses: {
            /** @description Upserted integrations. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Integration"][];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createRevision: {
        readonly parameters: {
            readonly query?: {
                /** @description Defaults to false. This flag controls whether to perform destructive actions when deploying integrations, like pausing all read actions for an object that was removed in the latest revision. */
                readonly destructive?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The integration ID. */
                readonly integrationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description URL of where a zip of the source files can be downloaded (e.g. Google Cloud Storage URL).
                     * @example https://storage.googleapis.com/my-bucket/source-files/integration-v1.2.3.zip
                     */
                    readonly sourceZipUrl?: string;
                    /** @description The source YAML file that defines the revision. */
                    readonly sourceYaml?: string;
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getHydratedRevision: {
        readonly parameters: {
            readonly query: {
                /**
                 * @description The ID of the consumer's connection to the SaaS provider. This connection's credentials are used to fetch field metadata from the provider's API.
                 * @example 1a2b3c4d-5e6f-7890-abcd-ef0123456789
                 */
                readonly connectionId: string;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The integration ID.
                 * @example a1b2c3d4-e5f6-7890-abcd-ef1234567890
                 */
                readonly integrationId: string;
                /**
                 * @description The revision ID. You can find this on the integration object's `latestRevision.id` field.
                 * @example f0e1d2c3-b4a5-6789-0abc-def123456789
                 */
                readonly revisionId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Hydrated revision. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["HydratedRevision"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listInstallations: {
        readonly parameters: {
            readonly query?: {
                /**
                 * @description The ID that your app uses to identify a group of users (e.g. an org ID, workspace ID, or team ID). When provided, only returns installations belonging to this group.
                 * @example group-123
                 */
                readonly groupRef?: string;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The unique identifier (UUID) of the integration.
                 * @example 550e8400-e29b-41d4-a716-446655440000
                 */
                readonly integrationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of installations */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "id": "3f8b2a1e-7c4d-4e9a-b5f6-1d2e3a4b5c6d",
                     *         "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *         "integrationId": "550e8400-e29b-41d4-a716-446655440000",
                     *         "group": {
                     *           "groupRef": "org_12345",
                     *           "groupName": "Acme Corp",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "createTime": "2024-01-15T10:30:00.000000Z"
                     *         },
                     *         "healthStatus": "healthy",
                     *         "connection": {
                     *           "id": "9d8c7b6a-5e4f-3a2b-1c0d-ef9876543210",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "provider": "salesforce",
                     *           "group": {
                     *             "groupRef": "org_12345",
                     *             "groupName": "Acme Corp",
                     *             "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *             "createTime": "2024-01-15T10:30:00.000000Z"
                     *           },
                     *           "consumer": {
                     *             "consumerRef": "user_67890",
                     *             "consumerName": "Jane Smith",
                     *             "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *             "createTime": "2024-01-15T10:30:00.000000Z"
                     *           },
                     *           "createTime": "2024-01-15T10:30:00.000000Z",
                     *           "authScheme": "oauth2/authorizationCode",
                     *           "status": "working"
                     *         },
                     *         "createTime": "2024-01-15T10:30:00.000000Z",
                     *         "createdBy": "consumer:user_67890",
                     *         "config": {
                     *           "id": "e4d3c2b1-a098-7654-3210-fedcba987654",
                     *           "revisionId": "f0e1d2c3-b4a5-6789-0abc-def123456789",
                     *           "createTime": "2024-01-15T10:30:00.000000Z",
                     *           "createdBy": "consumer:user_67890",
                     *           "content": {
                     *             "provider": "salesforce",
                     *             "read": {
                     *               "objects": {
                     *                 "account": {
                     *                   "objectName": "account",
                     *                   "schedule": "*\/15 * * * *",
                     *                   "destination": "accountWebhook",
                     *                   "selectedFields": {
                     *                     "name": true,
                     *                     "industry": true
                     *                   }
                     *                 }
                     *               }
                     *             }
                     *           }
                     *         }
                     *       }
                     *     ]
                     */
                    readonly "application/json": readonly components["schemas"]["Installation"][];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createInstallation: {
        readonly parameters: {
            readonly query?: {
                /** @description When `true`, skips the sample read that validates the installation's read configuration against the provider before saving. Defaults to `false`. */
                readonly skipSampling?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The integration ID.
                 * @example 113e9685-9a51-42cc-8662-9d9725b17f14
                 */
                readonly integrationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The ID of the user group that has access to this installation.
                     * @example group-123
                     */
                    readonly groupRef: string;
                    /**
                     * @description The ID of the SaaS connection tied to this installation. If omitted the default connection for this group will be used.
                     * @example a1c4e7b2-8f3d-4a6e-9c2b-5d8f1e4a7b3c
                     */
                    readonly connectionId?: string;
                    /** @description The config of the installation. */
                    readonly config: {
                        /**
                         * @deprecated
                         * @description Deprecated: This field will be automatically set to the latest revision.
                         */
                        readonly revisionId?: string;
                        /**
                         * @description The person who created the config, in the format of "consumer:{consumer-id}", "builder:{builder-id}", or "api:{api-caller}".
                         * @default api:create-installation
                         */
                        readonly createdBy?: string;
                        /** @description The content of the config. */
                        readonly content: components["schemas"]["ConfigContent"];
                    };
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Installation"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity. Returned when the config is invalid, or when the sample read fails because a selected field or mapping is not visible to the connected user. */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getInstallation: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The unique identifier (UUID) of the integration.
                 * @example 550e8400-e29b-41d4-a716-446655440000
                 */
                readonly integrationId: string;
                /**
                 * @description The unique identifier (UUID) of the installation.
                 * @example 7b3c9d2e-5a1f-4e8b-b6d4-9c8a2f1e5d3b
                 */
                readonly installationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The installation */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f8b2a1e-7c4d-4e9a-b5f6-1d2e3a4b5c6d",
                     *       "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *       "integrationId": "550e8400-e29b-41d4-a716-446655440000",
                     *       "group": {
                     *         "groupRef": "org_12345",
                     *         "groupName": "Acme Corp",
                     *         "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *         "createTime": "2024-01-15T10:30:00.000000Z"
                     *       },
                     *       "healthStatus": "healthy",
                     *       "connection": {
                     *         "id": "9d8c7b6a-5e4f-3a2b-1c0d-ef9876543210",
                     *         "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *         "provider": "salesforce",
                     *         "group": {
                     *           "groupRef": "org_12345",
                     *           "groupName": "Acme Corp",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "createTime": "2024-01-15T10:30:00.000000Z"
                     *         },
                     *         "consumer": {
                     *           "consumerRef": "user_67890",
                     *           "consumerName": "Jane Smith",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "createTime": "2024-01-15T10:30:00.000000Z"
                     *         },
                     *         "createTime": "2024-01-15T10:30:00.000000Z",
                     *         "authScheme": "oauth2/authorizationCode",
                     *         "status": "working"
                     *       },
                     *       "createTime": "2024-01-15T10:30:00.000000Z",
                     *       "createdBy": "consumer:user_67890",
                     *       "config": {
                     *         "id": "e4d3c2b1-a098-7654-3210-fedcba987654",
                     *         "revisionId": "f0e1d2c3-b4a5-6789-0abc-def123456789",
                     *         "createTime": "2024-01-15T10:30:00.000000Z",
                     *         "createdBy": "consumer:user_67890",
                     *         "content": {
                     *           "provider": "salesforce",
                     *           "read": {
                     *             "objects": {
                     *               "account": {
                     *                 "objectName": "account",
                     *                 "schedule": "*\/15 * * * *",
                     *                 "destination": "accountWebhook",
                     *                 "selectedFields": {
                     *                   "name": true,
                     *                   "industry": true
                     *                 }
                     *               }
                     *             }
                     *           }
                     *         }
                     *       }
                     *     }
                     */
                    readonly "application/json": components["schemas"]["Installation"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteInstallation: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The integration ID. */
                readonly integrationId: string;
                /** @description The Ampersand installation ID. */
                readonly installationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateInstallation: {
        readonly parameters: {
            readonly query?: {
                /** @description When `true`, skips the sample read that validates the installation's read configuration against the provider before saving. Defaults to `false`. */
                readonly skipSampling?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The ID of the integration that this installation belongs to.
                 * @example e3a7f9c1-4b2d-4e8a-9f6b-2d5c8a1e3b7f
                 */
                readonly integrationId: string;
                /**
                 * @description The Ampersand installation ID.
                 * @example 7b3c9d2e-5a1f-4e8b-b6d4-9c8a2f1e5d3b
                 */
                readonly installationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                /**
                 * @example {
                 *       "updateMask": [
                 *         "config.content.read.objects.contacts"
                 *       ],
                 *       "installation": {
                 *         "config": {
                 *           "content": {
                 *             "read": {
                 *               "objects": {
                 *                 "contacts": {
                 *                   "objectName": "contacts",
                 *                   "schedule": "*\/30 * * * *",
                 *                   "destination": "contactsWebhook",
                 *                   "selectedFields": {
                 *                     "email": true,
                 *                     "phone": true
                 *                   }
                 *                 }
                 *               }
                 *             }
                 *           }
                 *         }
                 *       }
                 *     }
                 */
                readonly "application/json": {
                    /**
                     * @description Array of field paths specifying which fields to update. Each path must have a corresponding value in the `installation` object. A field included in `installation` but not listed here will be ignored. Allowed values:
                     *     - `connectionId` - switch the SaaS connection tied to this installation.
                     *     - `config.createdBy` - change the attribution for who created this config.
                     *     - `config.content.read.objects.<objectName>` - replace the read config for a single object (e.g. `config.content.read.objects.contacts`).
                     *     - `config.content.write.objects.<objectName>` - replace the write config for a single object.
                     *     - `config.content.write.objects` - replace the entire write objects map.
                     *     - `config.content.subscribe.objects.<objectName>` - replace the subscribe config for a single object.
                     *     - `config.content.subscribe.objects` - replace the entire subscribe objects map.
                     *     - `config.content.proxy.enabled` - enable or disable the proxy.
                     *
                     *     Replace `<objectName>` with the provider object name (e.g. `contacts`, `leads`, `accounts`).
                     * @example [
                     *       "config.content.read.objects.contacts",
                     *       "config.content.write.objects.leads"
                     *     ]
                     */
                    readonly updateMask: readonly string[];
                    /**
                     * @description The installation fields to update. Only fields whose paths are listed in `updateMask` will be
                     *     applied; all other fields in this object are ignored.
                     */
                    readonly installation: {
                        /**
                         * @description The ID of the SaaS connection tied to this installation.
                         * @example a1c4e7b2-8f3d-4a6e-9c2b-5d8f1e4a7b3c
                         */
                        readonly connectionId?: string;
                        /** @description The config of the installation. */
                        readonly config?: {
                            /**
                             * @deprecated
                             * @description Deprecated: This field will be automatically set to the latest revision ID.
                             */
                            readonly revisionId?: string;
                            /** @description The person who created the config, in the format of "consumer:{consumer-id}" or "builder:{builder-id}". */
                            readonly createdBy?: string;
                            /** @description The content of the config. */
                            readonly content?: components["schemas"]["UpdateInstallationConfigContent"];
                        };
                    };
                };
            };
        };
        readonly responses: {
            /** @description The updated installation. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Installation"];
                };
            };
            /** @description Invalid input (e.g. unrecognized update mask path, missing value for a mask, or malformed request body). */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity. Returned when the config is invalid, or when the sample read fails because a selected field or mapping is not visible to the connected user. */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly patchObjectConfigContent: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The integration ID. */
                readonly integrationId: string;
                /**
                 * @description The object name whose config content will be patched.
                 *     Must match an object name defined in the integration's manifest for the specified action type (read, subscribe, or write).
                 *     Common examples include: `account`, `contact`, `lead`, `opportunity` (for Salesforce), `deal`, `company` (for HubSpot), etc.
                 * @example account
                 */
                readonly objectName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The ID of the user group that has access to this installation.
                     *     Either groupRef or installationId must be provided.
                     * @example group-123
                     */
                    readonly groupRef: string;
                    /**
                     * @description The action type for the object config (read, subscribe, or write).
                     * @example read
                     * @enum {string}
                     */
                    readonly action: "read" | "subscribe" | "write";
                    /**
                     * @description Array of JSON Patch operations to apply.
                     * @example [
                     *       {
                     *         "op": "replace",
                     *         "path": "/schedule",
                     *         "value": "*\/10 * * * *"
                     *       },
                     *       {
                     *         "op": "add",
                     *         "path": "/selectedFields/phone",
                     *         "value": true
                     *       },
                     *       {
                     *         "op": "remove",
                     *         "path": "/selectedFields/billingcity"
                     *       }
                     *     ]
                     */
                    readonly changes: readonly components["schemas"]["JSONPatchOperation"][];
                } | {
                    /**
                     * @description The installation ID.
                     *     Either groupRef or installationId must be provided.
                     * @example installation-123
                     */
                    readonly installationId: string;
                    /**
                     * @description The action type for the object config (read, subscribe, or write).
                     * @example read
                     * @enum {string}
                     */
                    readonly action: "read" | "subscribe" | "write";
                    /**
                     * @description Array of JSON Patch operations to apply.
                     * @example [
                     *       {
                     *         "op": "replace",
                     *         "path": "/schedule",
                     *         "value": "*\/10 * * * *"
                     *       },
                     *       {
                     *         "op": "add",
                     *         "path": "/selectedFields/phone",
                     *         "value": true
                     *       },
                     *       {
                     *         "op": "remove",
                     *         "path": "/selectedFields/billingcity"
                     *       }
                     *     ]
                     */
                    readonly changes: readonly components["schemas"]["JSONPatchOperation"][];
                };
            };
        };
        readonly responses: {
            /** @description The updated installation */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Installation"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Installation not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getObjectMetadataForInstallation: {
        readonly parameters: {
            readonly query: {
                /**
                 * @description The ID of the user group that has access to this installation.
                 * @example group-123
                 */
                readonly groupRef: string;
                /**
                 * @description Excludes fields where `ReadOnly` is `true` from the response.
                 * @example true
                 */
                readonly excludeReadOnly?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The unique identifier of the integration.
                 * @example e3a7f9c1-4b2d-4e8a-9f6b-2d5c8a1e3b7f
                 */
                readonly integrationId: string;
                /**
                 * @description The name of the object to retrieve metadata for. You can use either the mapped name from your integration config (e.g. `people`) or the native provider object name (e.g. `contact`).
                 * @example account
                 */
                readonly objectName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The retrieved object metadata. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "name": "account",
                     *       "displayName": "Account",
                     *       "mappedObjectName": "companies",
                     *       "fields": {
                     *         "name": {
                     *           "fieldName": "name",
                     *           "displayName": "Account Name",
                     *           "valueType": "string",
                     *           "providerType": "string",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": true
                     *         },
                     *         "billingcity": {
                     *           "fieldName": "billingcity",
                     *           "displayName": "Billing City",
                     *           "valueType": "string",
                     *           "providerType": "string",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": false
                     *         },
                     *         "industry": {
                     *           "fieldName": "industry",
                     *           "displayName": "Industry",
                     *           "valueType": "singleSelect",
                     *           "providerType": "picklist",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": false,
                     *           "values": [
                     *             {
                     *               "value": "technology",
                     *               "displayValue": "Technology"
                     *             },
                     *             {
                     *               "value": "finance",
                     *               "displayValue": "Finance"
                     *             }
                     *           ]
                     *         }
                     *       }
                     *     }
                     */
                    readonly "application/json": components["schemas"]["ObjectMetadata"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listInstallationsForProject: {
        readonly parameters: {
            readonly query?: {
                /**
                 * @description The ID that your app uses to identify a group of users (e.g. an org ID, workspace ID, or team ID). When provided, only returns installations belonging to this group.
                 * @example group-123
                 */
                readonly groupRef?: string;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of installations */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "id": "3f8b2a1e-7c4d-4e9a-b5f6-1d2e3a4b5c6d",
                     *         "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *         "integrationId": "550e8400-e29b-41d4-a716-446655440000",
                     *         "group": {
                     *           "groupRef": "org_12345",
                     *           "groupName": "Acme Corp",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "createTime": "2024-01-15T10:30:00.000000Z"
                     *         },
                     *         "healthStatus": "healthy",
                     *         "connection": {
                     *           "id": "9d8c7b6a-5e4f-3a2b-1c0d-ef9876543210",
                     *           "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *           "provider": "salesforce",
                     *           "group": {
                     *             "groupRef": "org_12345",
                     *             "groupName": "Acme Corp",
                     *             "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *             "createTime": "2024-01-15T10:30:00.000000Z"
                     *           },
                     *           "consumer": {
                     *             "consumerRef": "user_67890",
                     *             "consumerName": "Jane Smith",
                     *             "projectId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                     *             "createTime": "2024-01-15T10:30:00.000000Z"
                     *           },
                     *           "createTime": "2024-01-15T10:30:00.000000Z",
                     *           "authScheme": "oauth2/authorizationCode",
                     *           "status": "working"
                     *         },
                     *         "createTime": "2024-01-15T10:30:00.000000Z",
                     *         "createdBy": "consumer:user_67890",
                     *         "config": {
                     *           "id": "e4d3c2b1-a098-7654-3210-fedcba987654",
                     *           "revisionId": "f0e1d2c3-b4a5-6789-0abc-def123456789",
                     *           "createTime": "2024-01-15T10:30:00.000000Z",
                     *           "createdBy": "consumer:user_67890",
                     *           "content": {
                     *             "provider": "salesforce",
                     *             "read": {
                     *               "objects": {
                     *                 "account": {
                     *                   "objectName": "account",
                     *                   "schedule": "*\/15 * * * *",
                     *                   "destination": "accountWebhook",
                     *                   "selectedFields": {
                     *                     "name": true,
                     *                     "industry": true
                     *                   }
                     *                 }
                     *               }
                     *             }
                     *           }
                     *         }
                     *       }
                     *     ]
                     */
                    readonly "application/json": readonly components["schemas"]["Installation"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getObjectMetadataForConnection: {
        readonly parameters: {
            readonly query: {
                /**
                 * @description The ID of the user group whose connection should be used to fetch the metadata.
                 * @example group-123
                 */
                readonly groupRef: string;
                /**
                 * @description Excludes fields where `ReadOnly` is `true` from the response.
                 * @example true
                 */
                readonly excludeReadOnly?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The provider name (e.g. `salesforce`, `hubspot`).
                 * @example salesforce
                 */
                readonly provider: string;
                /**
                 * @description The native provider object name to retrieve metadata for.
                 * @example contact
                 */
                readonly objectName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The retrieved object metadata. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "name": "contact",
                     *       "displayName": "Contact",
                     *       "fields": {
                     *         "firstname": {
                     *           "fieldName": "firstname",
                     *           "displayName": "First Name",
                     *           "valueType": "string",
                     *           "providerType": "string",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": true
                     *         },
                     *         "email": {
                     *           "fieldName": "email",
                     *           "displayName": "Email",
                     *           "valueType": "string",
                     *           "providerType": "string",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": false
                     *         },
                     *         "lifecyclestage": {
                     *           "fieldName": "lifecyclestage",
                     *           "displayName": "Lifecycle Stage",
                     *           "valueType": "singleSelect",
                     *           "providerType": "enumeration",
                     *           "readOnly": false,
                     *           "isCustom": false,
                     *           "isRequired": false,
                     *           "values": [
                     *             {
                     *               "value": "lead",
                     *               "displayValue": "Lead"
                     *             },
                     *             {
                     *               "value": "customer",
                     *               "displayValue": "Customer"
                     *             }
                     *           ]
                     *         }
                     *       }
                     *     }
                     */
                    readonly "application/json": components["schemas"]["ObjectMetadata"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly upsertMetadataForInstallation: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The integration ID.
                 * @example 32356abe-d2fd-49c7-9030-abdcbc6456d4
                 */
                readonly integrationId: string;
            };
            readonly cookie?: never;
        };
        /** @description Metadata upsert request containing field definitions to create or update */
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["UpsertMetadataRequest"];
            };
        };
        readonly responses: {
            /** @description Metadata creation completed successfully */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["UpsertMetadataResponse"];
                };
            };
            /** @description Invalid request payload or validation errors */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Authentication required */
            readonly 401: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Insufficient permissions for metadata operations */
            readonly 403: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Project, integration, or installation not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly upsertMetadataForConnection: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The provider that this connection connects to.
                 * @example salesforce
                 */
                readonly provider: string;
            };
            readonly cookie?: never;
        };
        /** @description Metadata upsert request containing field definitions to create or update */
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["UpsertMetadataRequest"];
            };
        };
        readonly responses: {
            /** @description Metadata creation completed successfully */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["UpsertMetadataResponse"];
                };
            };
            /** @description Invalid request payload or validation errors */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Authentication required */
            readonly 401: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Insufficient permissions for metadata operations */
            readonly 403: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Project or connection not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listOperations: {
        readonly parameters: {
            readonly query?: {
                /** @description The number of operations to return. */
                readonly pageSize?: number;
                /** @description A cursor that can be passed to paginate through multiple pages of operations. */
                readonly pageToken?: string;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The integration ID. */
                readonly integrationId: string;
                /** @description The Ampersand installation ID. */
                readonly installationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of operations */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": {
                        readonly results: readonly components["schemas"]["Operation"][];
                        readonly pagination: components["schemas"]["PaginationInfo"];
                    };
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getBackfillProgress: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The Ampersand integration ID.
                 * @example 113e9685-9a51-42cc-8662-9d9725b17f14
                 */
                readonly integrationId: string;
                /**
                 * @description The Ampersand installation ID.
                 * @example 66438162-5299-4669-a41d-85c5a3b1a83e
                 */
                readonly installationId: string;
                /**
                 * @description Name of the object being synced (e.g., "contact", "account").
                 * @example contact
                 */
                readonly objectName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Backfill progress for the object */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "installationId": "66438162-5299-4669-a41d-85c5a3b1a83e",
                     *       "objectName": "contact",
                     *       "operationId": "3efc0f0f-4bb9-498f-996c-9893d98ca4b5",
                     *       "recordsProcessed": 1250,
                     *       "recordsEstimatedTotal": 5000,
                     *       "createTime": "2025-02-13T10:00:00Z",
                     *       "updateTime": "2025-02-13T10:05:00Z"
                     *     }
                     */
                    readonly "application/json": components["schemas"]["BackfillProgress"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description No backfill operation found or progress not available */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getOperation: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description Unique identifier for the operation. Obtain from the list operations API endpoint, the Ampersand dashboard, or webhook payloads.
                 * @example 3efc0f0f-4bb9-498f-996c-9893d98ca4b5
                 */
                readonly operationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The operation, including its current status, result summary, and metadata (e.g. read progress or write results). */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Operation"];
                };
            };
            /** @description Error response for any non-2xx status (e.g. operation not found, invalid project or operation ID, or server error). */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "https://httpstatuses.com/404",
                     *       "title": "Not Found",
                     *       "status": 404,
                     *       "detail": "Operation not found for the given operation ID.",
                     *       "subsystem": "api",
                     *       "time": "2024-04-22T18:55:28.456076Z",
                     *       "requestId": "89eb1ffb-2a54-4105-aaae-7bf990f1aa69#87715",
                     *       "remedy": "Verify the operation ID and project are correct, or list operations to find a valid ID.",
                     *       "retryable": false
                     *     }
                     */
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listOperationLogs: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description Operation ID. */
                readonly operationId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of logs */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Log"][];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listProviders: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description All available providers and their capabilities. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "salesforce": {
                     *         "name": "salesforce",
                     *         "displayName": "Salesforce",
                     *         "authType": "oauth2",
                     *         "baseURL": "https://{{.workspace}}.my.salesforce.com",
                     *         "defaultModule": "crm",
                     *         "support": {
                     *           "read": true,
                     *           "write": true,
                     *           "delete": true,
                     *           "subscribe": true,
                     *           "proxy": true,
                     *           "bulkWrite": {
                     *             "insert": true,
                     *             "update": true,
                     *             "upsert": true,
                     *             "delete": true
                     *           },
                     *           "search": {
                     *             "operators": {
                     *               "equals": true
                     *             }
                     *           }
                     *         },
                     *         "providerOpts": {}
                     *       },
                     *       "hubspot": {
                     *         "name": "hubspot",
                     *         "displayName": "HubSpot",
                     *         "authType": "oauth2",
                     *         "baseURL": "https://api.hubapi.com",
                     *         "defaultModule": "",
                     *         "support": {
                     *           "read": true,
                     *           "write": true,
                     *           "delete": true,
                     *           "subscribe": true,
                     *           "proxy": true,
                     *           "bulkWrite": {
                     *             "insert": false,
                     *             "update": false,
                     *             "upsert": false,
                     *             "delete": false
                     *           },
                     *           "search": {
                     *             "operators": {
                     *               "equals": true
                     *             }
                     *           }
                     *         },
                     *         "providerOpts": {}
                     *       }
                     *     }
                     */
                    readonly "application/json": components["schemas"]["CatalogType"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getProvider: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The provider name (e.g. `salesforce`, `hubspot`).
                 * @example hubspot
                 */
                readonly provider: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description The requested provider. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ProviderInfo"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listApiKeys: {
        readonly parameters: {
            readonly query?: {
                /** @description Whether to include only active API keys. If false, all API keys are included. */
                readonly active?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of API keys */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["ApiKey"][];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createApiKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["ApiKeyRequest"];
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description Project not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getApiKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description API key to access Ampersand APIs. */
                readonly apiKey: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description API key */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description API key not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteApiKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description API key to access Ampersand APIs. */
                readonly apiKey: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
        };
    };
    readonly updateApiKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description API key to access Ampersand APIs. */
                readonly apiKey: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["PatchApiKeyRequest"];
            };
        };
        readonly responses: {
            /** @description API key updated */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listConnections: {
        readonly parameters: {
            readonly query?: {
                /** @description The provider name (e.g. "salesforce", "hubspot") */
                readonly provider?: string;
                /**
                 * @description The ID of the user group that has access to this installation.
                 * @example group-123
                 */
                readonly groupRef?: string;
                /** @description The consumer reference. */
                readonly consumerRef?: string;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of project connections. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Connection"][];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly generateConnection: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: {
            readonly content: {
                readonly "application/json": components["schemas"]["GenerateConnectionRequest"];
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getConnection: {
        readonly parameters: {
            readonly query?: {
                /** @description Whether to include credentials for `oauth2AuthorizationCode` in the response. If true, `accessToken` and `scopes` are included. To include `refreshToken` as well, set `includeRefreshToken` to true. Default is false. */
                readonly includeCreds?: boolean;
                /** @description Whether to include `refreshToken` for `oauth2AuthorizationCode` credentials in the response (along with `accessToken` and `scopes`). If true, the `includeCreds` query parameter will be ignored. Default is false. */
                readonly includeRefreshToken?: boolean;
                /** @description Whether to refresh the access token. If value is `ifExpired`, the access token will be refreshed only if it has expired. If value is `force`, the access token will be refreshed regardless of its expiration. */
                readonly refresh?: "force" | "ifExpired";
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                readonly connectionId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Connection */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteConnection: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                readonly connectionId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateConnection: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The ID of the connection to update. You can find this via the [list connections endpoint](https://docs.withampersand.com/reference/connection/list-connections).
                 * @example connection-123
                 */
                readonly connectionId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["UpdateConnectionRequest"];
            };
        };
        readonly responses: {
            /** @description Connection updated successfully. */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "c3a1f9d2-7b4e-4f8a-9e6d-2c5b8a3f1e7d",
                     *       "projectId": "a1b2c3d4-e5f6-4789-a012-3456789abcde",
                     *       "provider": "salesforce",
                     *       "group": {
                     *         "groupRef": "8f2e4a6b-1c3d-4e5f-9a7b-0d8e6f2c4a1b",
                     *         "groupName": "my-group"
                     *       },
                     *       "consumer": {
                     *         "consumerRef": "d4e5f6a7-b8c9-4d0e-a1f2-3b4c5d6e7f8a",
                     *         "consumerName": "my-consumer"
                     *       },
                     *       "providerWorkspaceRef": "my-org.my.salesforce.com",
                     *       "authScheme": "apiKey",
                     *       "status": "working",
                     *       "createTime": "2023-07-13T21:34:44.816354Z",
                     *       "updateTime": "2024-01-15T10:22:33.000000Z"
                     *     }
                     */
                    readonly "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description Invalid update mask or request body. The response includes the list of allowed mask values. */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "about:blank",
                     *       "title": "Bad Request",
                     *       "status": 400,
                     *       "detail": "Invalid update mask",
                     *       "subsystem": "api",
                     *       "time": "2024-04-22T18:55:28.456076Z",
                     *       "requestId": "89eb1ffb-2a54-4105-aaae-7bf990f1aa69#87715",
                     *       "remedy": "Allowed masks: 'providerWorkspaceRef, providerMetadata, apiKey, basicAuth, oauth2ClientCredentials, oauth2PasswordCredentials'",
                     *       "retryable": false
                     *     }
                     */
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error (e.g. connection not found, auth scheme mismatch, or server error). */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listDestinations: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of destinations */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Destination"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createDestination: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description Name for the new destination. Must be unique within the project and can only contain letters, numbers and dashes.
                     * @example leadConvertedWebhook
                     */
                    readonly name: string;
                    /**
                     * @description The type of the destination. For `slack`, set `metadata.url` to a Slack incoming webhook URL. The warehouse and message-queue types (`clickhouse`, `snowflake`, `bigquery`, `redshift`, `sqs`, `pubsub`, `rabbitmq`, `azureservicebus`) are configured via the `metadata` and `secrets` fields documented below.
                     * @example webhook
                     * @enum {string}
                     */
                    readonly type: "webhook" | "kinesis" | "s3" | "slack" | "clickhouse" | "snowflake" | "bigquery" | "redshift" | "sqs" | "pubsub" | "rabbitmq" | "azureservicebus";
                    /** @description Secrets for the destination. */
                    readonly secrets?: {
                        /**
                         * @description The AWS access key ID for the `kinesis`, `s3`, and `sqs` destinations. Required for `sqs`.
                         * @example AKIAIOSFODNN7EXAMPLE
                         */
                        readonly awsKeyId?: string;
                        /**
                         * @description The AWS secret access key for the `kinesis`, `s3`, and `sqs` destinations. Required for `sqs`.
                         * @example wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
                         */
                        readonly awsSecretKey?: string;
                        /**
                         * @description The optional AWS session token for the `kinesis`, `s3`, and `sqs` destinations.
                         * @example AQoEXAMPLEH4aoAH0gNCAPy...
                         */
                        readonly awsSessionToken?: string;
                        /**
                         * @description The password for the `clickhouse` and `rabbitmq` destinations. Required for `rabbitmq`.
                         * @example my-clickhouse-password
                         */
                        readonly password?: string;
                        /**
                         * @description The PEM-encoded RSA private key for the `snowflake` destination.
                         * @example -----BEGIN PRIVATE KEY-----
                         *     ...
                         *     -----END PRIVATE KEY-----
                         */
                        readonly privateKey?: string;
                        /**
                         * @description The service-account credentials JSON for the `bigquery`, `gcs`, and `pubsub` destinations. Required for `pubsub`.
                         * @example {"type":"service_account", ...}
                         */
                        readonly credentials?: string;
                        /**
                         * @description The AWS access key ID for the `redshift` destination.
                         * @example AKIAIOSFODNN7EXAMPLE
                         */
                        readonly accessKeyId?: string;
                        /**
                         * @description The AWS secret access key for the `redshift` destination.
                         * @example wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
                         */
                        readonly secretAccessKey?: string;
                        /**
                         * @description The account access key for the `azureblob` destination.
                         * @example my-azure-access-key
                         */
                        readonly accessKey?: string;
                        /**
                         * @description The username for the `rabbitmq` destination. Required for `rabbitmq`.
                         * @example ampersand
                         */
                        readonly username?: string;
                        /**
                         * @description The connection string for the `azureservicebus` destination. Required for `azureservicebus`.
                         * @example Endpoint=sb://my-namespace.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=...
                         */
                        readonly connectionString?: string;
                    };
                    readonly metadata: {
                        /**
                         * @description Webhook URL, must start with "https://". For `slack` destinations, this is the Slack incoming webhook URL.
                         * @example https://webhooks.mailmonkey.com/salesforce-lead-converted
                         */
                        readonly url?: string;
                        readonly headers?: components["schemas"]["WebhookHeaders"];
                        /**
                         * @description The AWS region where the Kinesis or S3 destination is hosted.
                         * @example us-east-1
                         */
                        readonly region?: string;
                        /**
                         * @description The name of the Kinesis stream to send events to.
                         * @example my-kinesis-stream
                         */
                        readonly streamName?: string;
                        /**
                         * @description The endpoint URL for the `kinesis` stream, or the optional custom endpoint URL for the `sqs` destination.
                         * @example https://kinesis.us-east-1.amazonaws.com
                         */
                        readonly endpointUrl?: string;
                        /**
                         * @description The template for the partition key (a JMESPath template). Used by `kinesis`.
                         * @example data.user_id
                         */
                        readonly partitionKeyTemplate?: string;
                        /**
                         * @description The name of the S3 bucket to write objects to.
                         * @example ampersand-integration-bucket
                         */
                        readonly bucket?: string;
                        /**
                         * @description The template for the S3 object key to use when writing objects (a JMESPath template). If omitted, the key defaults to the message timestamp followed by the message ID.
                         * @example join('/', [metadata.objectName, metadata.operationId])
                         */
                        readonly keyTemplate?: string;
                        /**
                         * @description The S3 storage class for written objects. Defaults to STANDARD. Common values include STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, GLACIER_IR, and DEEP_ARCHIVE.
                         * @example STANDARD
                         */
                        readonly storageClass?: string;
                        /**
                         * @description The username for the `clickhouse` destination.
                         * @example default
                         */
                        readonly username?: string;
                        /**
                         * @description The destination table name (`clickhouse`, `snowflake`, `redshift`).
                         * @example events
                         */
                        readonly tableName?: string;
                        /**
                         * @description The database name for the `clickhouse` destination.
                         * @example analytics
                         */
                        readonly database?: string;
                        /**
                         * @description The Snowflake account identifier for the `snowflake` destination.
                         * @example myorg-myaccount
                         */
                        readonly accountIdentifier?: string;
                        /**
                         * @description The user ID for the `snowflake` destination.
                         * @example SVC_AMPERSAND
                         */
                        readonly userId?: string;
                        /**
                         * @description The database name (`snowflake`, `redshift`).
                         * @example ANALYTICS
                         */
                        readonly dbName?: string;
                        /**
                         * @description The schema name (`snowflake`, `redshift`).
                         * @example PUBLIC
                         */
                        readonly schemaName?: string;
                        /**
                         * @description The Google Cloud project ID (`bigquery`, `pubsub`). Required for `pubsub`.
                         * @example my-gcp-project
                         */
                        readonly projectId?: string;
                        /**
                         * @description The BigQuery dataset ID for the `bigquery` destination.
                         * @example analytics
                         */
                        readonly datasetId?: string;
                        /**
                         * @description The BigQuery table ID for the `bigquery` destination.
                         * @example events
                         */
                        readonly tableId?: string;
                        /**
                         * @description The Redshift Serverless workgroup name for the `redshift` destination.
                         * @example my-workgroup
                         */
                        readonly workgroupName?: string;
                        /**
                         * @description The Redshift provisioned cluster identifier for the `redshift` destination.
                         * @example my-cluster
                         */
                        readonly clusterIdentifier?: string;
                        /**
                         * @description The database user for the `redshift` destination.
                         * @example ampersand
                         */
                        readonly dbUser?: string;
                        /**
                         * @description The storage account name for the `azureblob` destination.
                         * @example mystorageaccount
                         */
                        readonly account?: string;
                        /**
                         * @description The blob container name for the `azureblob` destination.
                         * @example ampersand-data
                         */
                        readonly container?: string;
                        /**
                         * @description The SQS queue URL for the `sqs` destination. Required for `sqs`.
                         * @example https://sqs.us-east-1.amazonaws.com/123456789012/my-queue
                         */
                        readonly queueUrl?: string;
                        /**
                         * @description The Pub/Sub topic ID for the `pubsub` destination. Required for `pubsub`.
                         * @example ampersand-events
                         */
                        readonly topicId?: string;
                        /**
                         * @description The AMQP server URL for the `rabbitmq` destination. Required for `rabbitmq`.
                         * @example amqp://rabbit.example.com:5672
                         */
                        readonly serverUrl?: string;
                        /**
                         * @description The exchange to publish to for the `rabbitmq` destination. Required for `rabbitmq`.
                         * @example ampersand.events
                         */
                        readonly exchange?: string;
                        /**
                         * @description Whether to connect over TLS. Optional for the `rabbitmq` destination.
                         * @example true
                         */
                        readonly tls?: boolean;
                        /**
                         * @description The queue or topic name for the `azureservicebus` destination. Required for `azureservicebus`.
                         * @example ampersand-events
                         */
                        readonly name?: string;
                        /**
                         * @description For warehouse destinations (`clickhouse`, `snowflake`, `bigquery`, `redshift`), the number of rows to buffer before flushing a batch. Defaults to 1000.
                         * @example 1000
                         */
                        readonly batchSize?: number;
                        /**
                         * @description For warehouse destinations, the maximum number of seconds to wait before flushing a batch (whichever comes first with `batchSize`). Defaults to 30.
                         * @example 30
                         */
                        readonly maxWaitSecs?: number;
                    };
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Destination"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getDestination: {
        readonly parameters: {
            readonly query?: {
                /**
                 * @description Include secrets in the response
                 * @example true
                 */
                readonly includeSecrets?: boolean;
                /**
                 * @description Rotate the destination secrets
                 * @example true
                 */
                readonly rotate?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /**
                 * @description The destination name.
                 * @example leadConvertedWebhook
                 */
                readonly destination: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description OK */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["DestinationWithSecrets"];
                };
            };
            /** @description Destination not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteDestination: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The destination ID */
                readonly destination: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateDestination: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The destination ID. */
                readonly destination: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description Array of field paths specifying which fields to update. Allowed values include:
                     *     - name
                     *     - metadata.url
                     *     - metadata.headers
                     *     - metadata.region
                     *     - metadata.streamName
                     *     - metadata.endpointUrl
                     *     - metadata.partitionKeyTemplate
                     *     - metadata.bucket
                     *     - metadata.keyTemplate
                     *     - metadata.storageClass
                     *     - metadata.username
                     *     - metadata.tableName
                     *     - metadata.database
                     *     - metadata.accountIdentifier
                     *     - metadata.userId
                     *     - metadata.dbName
                     *     - metadata.schemaName
                     *     - metadata.projectId
                     *     - metadata.datasetId
                     *     - metadata.tableId
                     *     - metadata.workgroupName
                     *     - metadata.clusterIdentifier
                     *     - metadata.dbUser
                     *     - metadata.account
                     *     - metadata.container
                     *     - metadata.queueUrl
                     *     - metadata.topicId
                     *     - metadata.serverUrl
                     *     - metadata.exchange
                     *     - metadata.tls
                     *     - metadata.name
                     *     - metadata.batchSize
                     *     - metadata.maxWaitSecs
                     *     - secrets.awsKeyId
                     *     - secrets.awsSecretKey
                     *     - secrets.awsSessionToken
                     *     - secrets.password
                     *     - secrets.privateKey
                     *     - secrets.credentials
                     *     - secrets.accessKeyId
                     *     - secrets.secretAccessKey
                     *     - secrets.accessKey
                     *     - secrets.username
                     *     - secrets.connectionString
                     * @example [
                     *       "name",
                     *       "metadata.url",
                     *       "metadata.region",
                     *       "metadata.streamName"
                     *     ]
                     */
                    readonly updateMask: readonly string[];
                    readonly destination: {
                        /**
                         * @description User-friendly name for the destination
                         * @example leadConvertedWebhook
                         */
                        readonly name?: string;
                        readonly metadata?: {
                            /**
                             * @description Webhook URL
                             * @example https://webhooks.mailmonkey.com/salesforce-lead-converted
                             */
                            readonly url?: string;
                            readonly headers?: components["schemas"]["WebhookHeaders"];
                            /**
                             * @description The AWS region where the Kinesis or S3 destination is hosted.
                             * @example us-east-1
                             */
                            readonly region?: string;
                            /**
                             * @description The name of the Kinesis stream to send events to.
                             * @example my-kinesis-stream
                             */
                            readonly streamName?: string;
                            /**
                             * @description The endpoint URL for the `kinesis` stream, or the optional custom endpoint URL for the `sqs` destination.
                             * @example https://kinesis.us-east-1.amazonaws.com
                             */
                            readonly endpointUrl?: string;
                            /**
                             * @description The template for the partition key (a JMESPath template). Used by `kinesis`.
                             * @example data.user_id
                             */
                            readonly partitionKeyTemplate?: string;
                            /**
                             * @description The name of the S3 bucket to write objects to.
                             * @example ampersand-integration-bucket
                             */
                            readonly bucket?: string;
                            /**
                             * @description The template for the S3 object key to use when writing objects (a JMESPath template). If omitted, the key defaults to the message timestamp followed by the message ID.
                             * @example join('/', [metadata.objectName, metadata.operationId])
                             */
                            readonly keyTemplate?: string;
                            /**
                             * @description The S3 storage class for written objects. Defaults to STANDARD. Common values include STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, GLACIER_IR, and DEEP_ARCHIVE.
                             * @example STANDARD
                             */
                            readonly storageClass?: string;
                            /**
                             * @description The username for the `clickhouse` destination.
                             * @example default
                             */
                            readonly username?: string;
                            /**
                             * @description The destination table name (`clickhouse`, `snowflake`, `redshift`).
                             * @example events
                             */
                            readonly tableName?: string;
                            /**
                             * @description The database name for the `clickhouse` destination.
                             * @example analytics
                             */
                            readonly database?: string;
                            /**
                             * @description The Snowflake account identifier for the `snowflake` destination.
                             * @example myorg-myaccount
                             */
                            readonly accountIdentifier?: string;
                            /**
                             * @description The user ID for the `snowflake` destination.
                             * @example SVC_AMPERSAND
                             */
                            readonly userId?: string;
                            /**
                             * @description The database name (`snowflake`, `redshift`).
                             * @example ANALYTICS
                             */
                            readonly dbName?: string;
                            /**
                             * @description The schema name (`snowflake`, `redshift`).
                             * @example PUBLIC
                             */
                            readonly schemaName?: string;
                            /**
                             * @description The Google Cloud project ID (`bigquery`, `pubsub`). Required for `pubsub`.
                             * @example my-gcp-project
                             */
                            readonly projectId?: string;
                            /**
                             * @description The BigQuery dataset ID for the `bigquery` destination.
                             * @example analytics
                             */
                            readonly datasetId?: string;
                            /**
                             * @description The BigQuery table ID for the `bigquery` destination.
                             * @example events
                             */
                            readonly tableId?: string;
                            /**
                             * @description The Redshift Serverless workgroup name for the `redshift` destination.
                             * @example my-workgroup
                             */
                            readonly workgroupName?: string;
                            /**
                             * @description The Redshift provisioned cluster identifier for the `redshift` destination.
                             * @example my-cluster
                             */
                            readonly clusterIdentifier?: string;
                            /**
                             * @description The database user for the `redshift` destination.
                             * @example ampersand
                             */
                            readonly dbUser?: string;
                            /**
                             * @description The storage account name for the `azureblob` destination.
                             * @example mystorageaccount
                             */
                            readonly account?: string;
                            /**
                             * @description The blob container name for the `azureblob` destination.
                             * @example ampersand-data
                             */
                            readonly container?: string;
                            /**
                             * @description The SQS queue URL for the `sqs` destination. Required for `sqs`.
                             * @example https://sqs.us-east-1.amazonaws.com/123456789012/my-queue
                             */
                            readonly queueUrl?: string;
                            /**
                             * @description The Pub/Sub topic ID for the `pubsub` destination. Required for `pubsub`.
                             * @example ampersand-events
                             */
                            readonly topicId?: string;
                            /**
                             * @description The AMQP server URL for the `rabbitmq` destination. Required for `rabbitmq`.
                             * @example amqp://rabbit.example.com:5672
                             */
                            readonly serverUrl?: string;
                            /**
                             * @description The exchange to publish to for the `rabbitmq` destination. Required for `rabbitmq`.
                             * @example ampersand.events
                             */
                            readonly exchange?: string;
                            /**
                             * @description Whether to connect over TLS. Optional for the `rabbitmq` destination.
                             * @example true
                             */
                            readonly tls?: boolean;
                            /**
                             * @description The queue or topic name for the `azureservicebus` destination. Required for `azureservicebus`.
                             * @example ampersand-events
                             */
                            readonly name?: string;
                            /**
                             * @description For warehouse destinations, rows to buffer before flushing a batch (default 1000).
                             * @example 1000
                             */
                            readonly batchSize?: number;
                            /**
                             * @description For warehouse destinations, max seconds before flushing a batch (default 30).
                             * @example 30
                             */
                            readonly maxWaitSecs?: number;
                        };
                        /** @description Secrets for the destination. */
                        readonly secrets?: {
                            /**
                             * @description The AWS access key ID for the `kinesis`, `s3`, and `sqs` destinations. Required for `sqs`.
                             * @example AKIAIOSFODNN7EXAMPLE
                             */
                            readonly awsKeyId?: string;
                            /**
                             * @description The AWS secret access key for the `kinesis`, `s3`, and `sqs` destinations. Required for `sqs`.
                             * @example wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
                             */
                            readonly awsSecretKey?: string;
                            /**
                             * @description The optional AWS session token for the `kinesis`, `s3`, and `sqs` destinations.
                             * @example AQoEXAMPLEH4aoAH0gNCAPy...
                             */
                            readonly awsSessionToken?: string;
                            /**
                             * @description The password for the `clickhouse` and `rabbitmq` destinations. Required for `rabbitmq`.
                             * @example my-clickhouse-password
                             */
                            readonly password?: string;
                            /**
                             * @description The PEM-encoded RSA private key for the `snowflake` destination.
                             * @example -----BEGIN PRIVATE KEY-----
                             *     ...
                             *     -----END PRIVATE KEY-----
                             */
                            readonly privateKey?: string;
                            /**
                             * @description The service-account credentials JSON for the `bigquery`, `gcs`, and `pubsub` destinations. Required for `pubsub`.
                             * @example {"type":"service_account", ...}
                             */
                            readonly credentials?: string;
                            /**
                             * @description The AWS access key ID for the `redshift` destination.
                             * @example AKIAIOSFODNN7EXAMPLE
                             */
                            readonly accessKeyId?: string;
                            /**
                             * @description The AWS secret access key for the `redshift` destination.
                             * @example wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
                             */
                            readonly secretAccessKey?: string;
                            /**
                             * @description The account access key for the `azureblob` destination.
                             * @example my-azure-access-key
                             */
                            readonly accessKey?: string;
                            /**
                             * @description The username for the `rabbitmq` destination. Required for `rabbitmq`.
                             * @example ampersand
                             */
                            readonly username?: string;
                            /**
                             * @description The connection string for the `azureservicebus` destination. Required for `azureservicebus`.
                             * @example Endpoint=sb://my-namespace.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=...
                             */
                            readonly connectionString?: string;
                        };
                    };
                };
            };
        };
        readonly responses: {
            /** @description Updated */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Destination"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Destination not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly generateUploadUrl: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Signed URL */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["SignedUrl"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createOrg: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The organization label.
                     * @example org-123
                     */
                    readonly label: string;
                };
            };
        };
        readonly responses: {
            /** @description The newly created org */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Org"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getOrg: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Organization */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Org"];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateOrg: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description Array of field paths specifying which fields to update. Allowed values include:
                     *     - label
                     * @example [
                     *       "label"
                     *     ]
                     */
                    readonly updateMask: readonly string[];
                    readonly org: {
                        /**
                         * @description The organization label.
                         * @example org-123
                         */
                        readonly label?: string;
                    };
                };
            };
        };
        readonly responses: {
            /** @description Updated org */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Org"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listOrgBuilders: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of builders that are a part of the org */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Builder"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listOrgInvites: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of invites */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Invite"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createOrgInvite: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The email address of the user to invite.
                     * @example alice@company.com
                     */
                    readonly email: string;
                };
            };
        };
        readonly responses: {
            /** @description The newly created invite */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Invite"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getOrgInvite: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
                readonly inviteId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Invite */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Invite"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteOrgInvite: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
                readonly inviteId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly addUserToOrg: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The ID of the builder to add to the organization
                     * @example builder-id-123
                     */
                    readonly builderId: string;
                };
            };
        };
        readonly responses: {
            /** @description User successfully added to organization */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request - Membership already exists or invalid request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Forbidden - Requires org:owner permission */
            readonly 403: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Not Found - Organization or builder not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getMyInfo: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Information about the current user and their organizations and projects */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["BuilderInfo"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly acceptInvite: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /** @description The email address that the invite was sent to */
                    readonly invitedEmail: string;
                };
            };
        };
        readonly responses: {
            /** @description Information about the current user and their organizations and projects */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["BuilderInfo"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getOrgBillingAccount: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description ID of the organization.
                 * @example 9f7c3e2a-61b8-4f5c-8d1a-eb24f3b05d79
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Billing account */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["BillingAccount"];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createBillingAccountSession: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                readonly billingAccountId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The URL to redirect to once a portal session is exited.
                     * @example https://dashboard.withampersand.com/the-current-page
                     */
                    readonly redirectUrl: string;
                    /**
                     * @description The number of seconds before the portal session expires.
                     * @example 3600
                     */
                    readonly timeout?: number;
                };
            };
        };
        readonly responses: {
            /** @description OK */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": {
                        /**
                         * @description The URL to redirect to in order to start the portal session.
                         * @example https://billing.portal.com/customer/session
                         */
                        readonly url: string;
                    };
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listTopics: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of topics */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["Topic"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createTopic: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description The name of the topic. Must contain only letters, numbers, and dashes.
                     * @example system-alerts
                     */
                    readonly name: string;
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Topic"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Conflict - A topic with this name already exists in this project. Please choose a different name */
            readonly 409: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteTopic: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The topic ID. */
                readonly topicId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Topic not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateTopic: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
                /** @description The topic ID. */
                readonly topicId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description A human-readable name for the topic.
                     * @example Updated System Alerts
                     */
                    readonly name: string;
                };
            };
        };
        readonly responses: {
            /** @description Updated */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["Topic"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Topic not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Conflict - A topic with this name already exists in this project. Please choose a different name */
            readonly 409: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listEventTopicRoutes: {
        readonly parameters: {
            readonly query?: {
                /** @description Filter by topic ID. */
                readonly topicId?: string;
                /** @description Filter by notification event type. */
                readonly eventType?: components["schemas"]["NotificationEventType"];
            };
            readonly header?: never;
            readonly path: {
                /** @description The Ampersand project ID or project name. */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of event-topic routes */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["NotificationEventTopicRoute"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createEventTopicRoute: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    readonly eventType: components["schemas"]["NotificationEventType"];
                    /** @description The ID of the topic to route events to. */
                    readonly topicId: string;
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["NotificationEventTopicRoute"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteEventTopicRoute: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description The Ampersand project ID or project name. */
                readonly projectIdOrName: string;
                /** @description The event-topic route ID. */
                readonly routeId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Route not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listTopicDestinationRoutes: {
        readonly parameters: {
            readonly query?: {
                /** @description Filter by topic ID. */
                readonly topicId?: string;
                /** @description Filter by destination ID. */
                readonly destinationId?: string;
            };
            readonly header?: never;
            readonly path: {
                /** @description The Ampersand project ID or project name. */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of topic destination routes */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["TopicDestinationRoute"][];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createTopicDestinationRoute: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description The Ampersand project ID or project name.
                 * @example my-project
                 */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /** @description The ID of the topic. */
                    readonly topicId: string;
                    /** @description The ID of the destination. */
                    readonly destinationId: string;
                };
            };
        };
        readonly responses: {
            /** @description Created */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["TopicDestinationRoute"];
                };
            };
            /** @description Bad Request */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Not Found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Unprocessable Entity */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteTopicDestinationRoute: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description The Ampersand project ID or project name. */
                readonly projectIdOrName: string;
                /** @description The topic destination route ID. */
                readonly routeId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Deleted */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Route not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listJWTKeys: {
        readonly parameters: {
            readonly query?: {
                /**
                 * @description Filter to only return active JWT keys
                 * @example true
                 */
                readonly active?: boolean;
            };
            readonly header?: never;
            readonly path: {
                /** @description Ampersand Project ID or name. */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of JWT keys retrieved successfully */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["JWTKey"][];
                };
            };
            /** @description Bad request - invalid project ID */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly createJWTKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description Ampersand Project ID or name. */
                readonly projectIdOrName: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["CreateJWTKeyRequest"];
            };
        };
        readonly responses: {
            /** @description JWT key created successfully */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["JWTKeyResponse"];
                };
            };
            /** @description Bad request - validation error */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Project not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly getJWTKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description Ampersand Project ID or name. */
                readonly projectIdOrName: string;
                /** @description The JWT key ID. */
                readonly keyId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description JWT key retrieved successfully */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["JWTKey"];
                };
            };
            /** @description JWT key not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly deleteJWTKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description Ampersand Project ID or name. */
                readonly projectIdOrName: string;
                /** @description The JWT key ID. */
                readonly keyId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description JWT key deleted successfully (no content) */
            readonly 204: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description JWT key not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly updateJWTKey: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /** @description Ampersand Project ID or name. */
                readonly projectIdOrName: string;
                /** @description The JWT key ID. */
                readonly keyId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": components["schemas"]["PatchJWTKeyRequest"];
            };
        };
        readonly responses: {
            /** @description JWT key updated successfully */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["JWTKey"];
                };
            };
            /** @description Bad request - invalid update mask or missing project/key ID */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description JWT key not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Unprocessable entity - value not found for mask */
            readonly 422: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Internal server error */
            readonly 500: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly checkClaimedDomain: {
        readonly parameters: {
            readonly query: {
                /**
                 * @description Accepts an email address, domain name, or URL. The domain will be automatically extracted: for emails, the portion after @ is used (e.g., "user@example.com" becomes "example.com"); for URLs, the hostname is extracted (e.g., "https://www.example.com" becomes "example.com").
                 * @example xyz@withampersand.com
                 */
                readonly domain: string;
            };
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description Domain claim status */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": components["schemas"]["ClaimedDomainResponse"];
                };
            };
            /** @description Bad Request - Invalid input */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Domain not claimed */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly claimDomain: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path?: never;
            readonly cookie?: never;
        };
        readonly requestBody: {
            readonly content: {
                readonly "application/json": {
                    /**
                     * @description Accepts an email address, domain name, or URL. The domain will be automatically extracted: for emails, the portion after @ is used (e.g., "user@example.com" becomes "example.com"); for URLs, the hostname is extracted (e.g., "https://www.example.com" becomes "example.com").
                     * @example xyz@withampersand.com
                     */
                    readonly domain: string;
                    /**
                     * @description ID of the parent entity claiming the domain
                     * @example orgId
                     */
                    readonly parentId: string;
                    /**
                     * @description Type of the parent entity
                     * @example org
                     */
                    readonly parentType: string;
                };
            };
        };
        readonly responses: {
            /** @description Domain claimed successfully */
            readonly 201: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request - Invalid input */
            readonly 400: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["InputValidationProblem"];
                };
            };
            /** @description Domain already claimed by another organization */
            readonly 409: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
    readonly listOrgClaimedDomains: {
        readonly parameters: {
            readonly query?: never;
            readonly header?: never;
            readonly path: {
                /**
                 * @description Organization ID
                 * @example orgId
                 */
                readonly orgId: string;
            };
            readonly cookie?: never;
        };
        readonly requestBody?: never;
        readonly responses: {
            /** @description List of claimed domains for the organization */
            readonly 200: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/json": readonly components["schemas"]["ClaimedDomainResponse"][];
                };
            };
            /** @description Organization not found */
            readonly 404: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
            /** @description Error */
            readonly default: {
                headers: {
                    readonly [name: string]: unknown;
                };
                content: {
                    readonly "application/problem+json": components["schemas"]["ApiProblem"];
                };
            };
        };
    };
}
