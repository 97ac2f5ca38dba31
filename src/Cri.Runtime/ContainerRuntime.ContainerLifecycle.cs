using Crisp.Cri.V1;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Oci;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Creates a container: overlay rootfs, OCI bundle, conmon + `runc create`. Any failure removes everything
    /// this call made, so a failed create leaves no partial container behind.
    /// </summary>
    public async Task<string> CreateContainerAsync(CreateContainerRequest request, CancellationToken cancellationToken)
    {
        var sandbox = RequireSandbox(request.PodSandboxId);
        if (sandbox.Phase != State.SandboxPhase.Ready)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"pod sandbox {sandbox.Id} is not ready (state {sandbox.Phase}); create a new sandbox");
        var config = request.Config ?? throw RuntimeException.InvalidField("config", "must be set");
        var metadata = config.Metadata ?? throw RuntimeException.InvalidField("config.metadata", "must be set");
        if (string.IsNullOrEmpty(metadata.Name)) throw RuntimeException.InvalidField("config.metadata.name", "must not be empty");
        ContainerConfigValidator.Validate(config, sandbox.Config.LogDirectory);
        var imageName = config.Image?.Image;
        if (string.IsNullOrEmpty(imageName)) throw RuntimeException.InvalidField("config.image.image", "must not be empty");
        var image = await _images.FindAsync(imageName, cancellationToken)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"config.image.image: image \"{imageName}\" not found; pull it first");
        var handler = HandlerOf(sandbox.RuntimeHandler);

        var id = ObjectIds.New();
        var record = new ContainerRecord
        {
            Id = id,
            SandboxId = sandbox.Id,
            Config = config,
            RuntimeHandler = sandbox.RuntimeHandler,
            CreatedAtNanos = UnixNanos.Now(),
            Phase = ContainerPhase.Creating,
            ImageId = image.Id,
            ImageName = imageName,
            ImageRef = image.RepoDigests.FirstOrDefault() ?? image.Id,
            LayerDirs = image.LayerDirs.ToList(),
            Directory = Path.Combine(ContainersRoot, id),
            BundleDirectory = Path.Combine(ContainersStateRoot, id),
            CgroupsPath = _cgroups.ContainerCgroupsPath(sandbox.CgroupParent, id),
            LogPath = LogPaths.Resolve(sandbox.Config.LogDirectory, config.LogPath),
            Resources = config.Linux?.Resources?.Clone() ?? new LinuxContainerResources(),
            StopSignal = StopSignals.Choose(config.StopSignal, image.Config.StopSignal),
        };

        await _nameLock.WaitAsync(cancellationToken);
        try
        {
            var holder = _store.ContainersOf(sandbox.Id).FirstOrDefault(c =>
                c.Metadata.Name == metadata.Name && c.Metadata.Attempt == metadata.Attempt);
            if (holder is not null)
                throw new RuntimeException(RuntimeErrorKind.AlreadyExists,
                    $"container name \"{metadata.Name}\" attempt {metadata.Attempt} is already reserved in pod sandbox {sandbox.Id} by container {holder.Id}");
            // Persisted before any effect: a crash from here on leaves a Creating record recovery cleans up.
            await _store.SaveAsync(record, cancellationToken);
        }
        finally
        {
            _nameLock.Release();
        }

        using (await _locks.AcquireAsync(id, CancellationToken.None))
        {
            try
            {
                await BuildAndCreateAsync(record, sandbox, image, handler, cancellationToken);
                PublishEvent(record, ContainerEventType.ContainerCreatedEvent);
            }
            catch (Exception ex)
            {
                Log.ContainerCreateFailed(_logger, ex, id, metadata.Name, sandbox.Id);
                await DestroyContainerAsync(record, handler, strict: false, CancellationToken.None);
                _locks.Forget(id);
                if (ex is RuntimeException) throw;
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"creating container \"{metadata.Name}\" in pod sandbox {sandbox.Id}: {ex.Message}", ex);
            }
        }
        Log.ContainerCreated(_logger, id, metadata.Name, sandbox.Id);
        return id;
    }

    /// <summary>
    /// PID namespace mode TARGET (kubectl debug --target): the target must be a running container of the same pod,
    /// named by its pid checked against the recorded start time so a recycled pid is never joined.
    /// </summary>
    private string? TargetPidNamespace(string targetId, string sandboxId)
    {
        if (FindContainer(targetId) is not { Phase: ContainerPhase.Running } target || target.SandboxId != sandboxId) return null;
        return new Host.ProcessIdentity(target.Pid, target.PidStartTime).IsAlive()
            ? $"/proc/{target.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/ns/pid"
            : null;
    }

    private async Task BuildAndCreateAsync(
        ContainerRecord record, State.SandboxRecord sandbox, ImageService.Api.ImageRecord image, IRuntimeHandler handler, CancellationToken cancellationToken)
    {
        OwnedDirectory.Ensure(record.Directory);
        // The upper dir's mode is the container's "/": open, but only reachable through the overlay mount.
        OwnedDirectory.Ensure(record.UpperPath, FileModes.SharedDirectory);
        OwnedDirectory.Ensure(record.WorkPath);
        OwnedDirectory.Ensure(record.RootfsPath);
        OwnedDirectory.Ensure(record.BundleDirectory);
        OwnedDirectory.Ensure(ExitDir);

        record.RootfsMounted = true;
        await _store.SaveAsync(record, CancellationToken.None);
        await OverlayRootfs.MountAsync(image.LayerDirs, record.UpperPath, record.WorkPath, record.RootfsPath, cancellationToken);

        var context = new ContainerSpecContext(
            record.Id,
            record.Config,
            sandbox.Config,
            image,
            record.RootfsPath,
            new SandboxNamespaces(sandbox.NetworkNamespacePath, sandbox.IpcNamespacePath, sandbox.UtsNamespacePath, sandbox.PidNamespacePath),
            record.CgroupsPath,
            new SandboxFiles(sandbox.HostnamePath, sandbox.HostsPath, sandbox.ResolvConfPath, sandbox.ShmPath),
            _host);
        var generated = ContainerSpecGenerator.Generate(context, new ContainerSpecOptions
        {
            SupportsRecursiveReadOnly = handler.Availability.SupportsRecursiveReadOnlyMounts,
            SandboxId = sandbox.Id,
            ResolveTargetPidNamespace = targetId => TargetPidNamespace(targetId, sandbox.Id),
        });
        record.SpecJson = generated.Spec.ToJson();
        record.User = generated.User;
        await OwnedFile.WriteTextAsync(Path.Combine(record.BundleDirectory, "config.json"), record.SpecJson, FileModes.PrivateFile, cancellationToken);

        if (!string.IsNullOrEmpty(record.LogPath))
            OwnedDirectory.CreateIfMissing(Path.GetDirectoryName(record.LogPath)!, FileModes.PrivateDirectory);
        await _store.SaveAsync(record, CancellationToken.None);

        var launch = new ContainerLaunch(
            record.Id,
            record.BundleDirectory,
            record.LogPath,
            record.Config.Tty,
            record.Config.Stdin,
            record.Config.StdinOnce,
            ExitDir,
            record.BundleDirectory)
        {
            Name = $"{sandbox.Metadata.Namespace}_{sandbox.Metadata.Name}_{record.Metadata.Name}_{record.Metadata.Attempt}",
        };
        await handler.CreateAsync(launch, cancellationToken);

        // conmon's pid file saves a `runc state` round trip on the create path; the runtime is asked only without it.
        var pid = ConmonFiles.ReadContainerPid(record.BundleDirectory)
            ?? (await handler.StateAsync(record.Id, CancellationToken.None))?.Pid
            ?? 0;
        if (pid > 0)
        {
            record.Pid = pid;
            record.PidStartTime = ProcessStartTime.Read(pid) ?? 0;
        }
        record.Phase = ContainerPhase.Created;
        await _store.SaveAsync(record, CancellationToken.None);
    }

    public async Task StartContainerAsync(StartContainerRequest request, CancellationToken cancellationToken)
    {
        var record = RequireContainer(request.ContainerId);
        using (await _locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (record.Phase != ContainerPhase.Created)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"container {record.Id} is {record.Phase}, only a Created container can be started");
            var sandbox = _store.FindSandbox(record.SandboxId);
            if (sandbox is null || sandbox.Phase != State.SandboxPhase.Ready)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"pod sandbox {record.SandboxId} of container {record.Id} is not ready");
            try
            {
                await HandlerOf(record.RuntimeHandler).StartAsync(record.Id, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                record.Phase = ContainerPhase.Exited;
                record.FinishedAtNanos = UnixNanos.Now();
                record.ExitCode = 128;
                record.Reason = "StartError";
                record.Message = ex.Message;
                await _store.SaveAsync(record, CancellationToken.None);
                SignalExited(record.Id);
                throw ex is RuntimeException ? ex : new RuntimeException(RuntimeErrorKind.Internal,
                    $"starting container {record.Id}: {ex.Message}", ex);
            }
            record.Phase = ContainerPhase.Running;
            record.StartedAtNanos = UnixNanos.Now();
            await _store.SaveAsync(record, CancellationToken.None);
            // Published under the container's lock so STARTED always precedes the STOPPED of a quick exit.
            PublishEvent(record, ContainerEventType.ContainerStartedEvent);
        }
        Log.ContainerStarted(_logger, record.Id);
    }
}
