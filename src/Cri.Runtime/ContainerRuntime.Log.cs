using Microsoft.Extensions.Logging;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} ({Namespace}/{Name}) ready on handler {Handler}")]
        public static partial void SandboxReady(ILogger logger, string sandboxId, string @namespace, string name, string handler);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Setting up pod sandbox {SandboxId} ({Name}) failed; rolling back")]
        public static partial void SandboxSetupFailed(ILogger logger, Exception exception, string sandboxId, string name);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} removed")]
        public static partial void SandboxRemoved(ILogger logger, string sandboxId);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod sandbox {SandboxId} is unknown; {Operation} is a no-op")]
        public static partial void UnknownSandboxIgnored(ILogger logger, string sandboxId, string operation);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Container {ContainerId} is unknown; {Operation} is a no-op")]
        public static partial void UnknownContainerIgnored(ILogger logger, string containerId, string operation);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Cleanup of {Id}: {Step} failed")]
        public static partial void CleanupStepFailed(ILogger logger, Exception exception, string id, string step);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Creating container {ContainerId} ({Name}) in pod sandbox {SandboxId} failed; rolling back")]
        public static partial void ContainerCreateFailed(ILogger logger, Exception exception, string containerId, string name, string sandboxId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} ({Name}) created in pod sandbox {SandboxId}")]
        public static partial void ContainerCreated(ILogger logger, string containerId, string name, string sandboxId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started")]
        public static partial void ContainerStarted(ILogger logger, string containerId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping container {ContainerId} with signal {Signal}, {Timeout}s before SIGKILL")]
        public static partial void StoppingContainer(ILogger logger, string containerId, int signal, long timeout);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} exited with {ExitCode} ({Reason})")]
        public static partial void ContainerExited(ILogger logger, string containerId, int exitCode, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Recording the exit of container {ContainerId} failed")]
        public static partial void ExitHandlingFailed(ILogger logger, Exception exception, string containerId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} removed")]
        public static partial void ContainerRemoved(ILogger logger, string containerId);

        [LoggerMessage(Level = LogLevel.Debug, Message = "No cgroup stats for {CgroupPath}: {Reason}")]
        public static partial void StatsUnavailable(ILogger logger, string cgroupPath, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Recovery of {Kind} {Id} failed; it is left as recorded")]
        public static partial void RecoveryFailed(ILogger logger, Exception exception, string kind, string id);

        [LoggerMessage(Level = LogLevel.Information, Message = "Recovery of {Id}: {Action}")]
        public static partial void RecoveryAction(ILogger logger, string id, string action);

        [LoggerMessage(Level = LogLevel.Information, Message = "Recovery done: {Sandboxes} pod sandboxes, {Containers} containers")]
        public static partial void RecoveryDone(ILogger logger, int sandboxes, int containers);
    }
}
