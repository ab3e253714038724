/** Implementation of the engine. Not API: may change in any release. */
package dev.workflowworker.core.internal;
