using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cdi;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.ImageVolumes;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Oci;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Containers;

/// <summary>
/// CreateContainer: overlay rootfs, image volumes, OCI bundle, conmon + `runc create`. Any failure removes everything this call
/// made, so a failed create leaves no partial container behind.
/// </summary>
public sealed partial class ContainerCreator
{
    private readonly RuntimeLayout _layout;
    private readonly IStateStore _store;
    private readonly KeyedLocks _locks;
    private readonly RuntimeHandlerRegistry _handlers;
    private readonly ICgroupManager _cgroups;
    private readonly IImageManager _images;
    private readonly IRuntimeMounts _mounts;
    private readonly HostFeatures _host;
    private readonly ContainerTeardown _teardown;
    private readonly ContainerEventPublisher _events;
    private readonly ILogger<ContainerCreator> _logger;
    private readonly IReadOnlyList<string> _allowedAnnotations;
    private readonly AppArmorProfiles _appArmor;
    private readonly SelinuxLabels _selinux;
    private readonly CdiRegistry _cdi;
    private readonly ImageVolumeManager _imageVolumes;
    private readonly bool _cdiEnabled;
    // Container names are reserved under this lock so two concurrent creates cannot both win.
    private readonly SemaphoreSlim _nameLock = new(1, 1);

    public ContainerCreator(
        RuntimeLayout layout,
        IStateStore store,
        KeyedLocks locks,
        RuntimeHandlerRegistry handlers,
        ICgroupManager cgroups,
        IImageManager images,
        IRuntimeMounts mounts,
        HostFeatures host,
        ContainerTeardown teardown,
        ContainerEventPublisher events,
        AppArmorProfiles appArmor,
        SelinuxLabels selinux,
        RuntimeOptions options,
        CdiRegistry cdi,
        ImageVolumeManager imageVolumes,
        ILogger<ContainerCreator> logger)
    {
        _imageVolumes = imageVolumes;
        _appArmor = appArmor;
        _selinux = selinux;
        _cdi = cdi;
        _cdiEnabled = options.EnableCdi;
        _allowedAnnotations = options.AllowedAnnotations;
        _layout = layout;
        _store = store;
        _locks = locks;
        _handlers = handlers;
        _cgroups = cgroups;
        _images = images;
        _mounts = mounts;
        _host = host;
        _teardown = teardown;
        _events = events;
        _logger = logger;
    }

    public async Task<string> CreateContainerAsync(CreateContainerRequest request, CancellationToken cancellationToken)
    {
        var sandbox = _store.RequireSandbox(request.PodSandboxId);
        if (sandbox.Phase != SandboxPhase.Ready)
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
        var handler = _handlers.Get(sandbox.RuntimeHandler);
        // The spec depends on the probe's verdict (recursive read-only mounts): a create that arrives while crispd
        // still probes waits for it.
        await handler.Probed.WaitAsync(cancellationToken);
        // Resolved before anything is made: an unknown device or a broken spec changes nothing.
        var cdiDevices = ResolveCdiDevices(config);
        var imageVolumes = await _imageVolumes.ResolveAsync(config, sandbox, cancellationToken);

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
            ImageVolumes = ImageVolumeManager.Uses(imageVolumes),
            Directory = Path.Combine(_layout.ContainersRoot, id),
            BundleDirectory = _layout.ContainerBundle(id),
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
                await BuildAndCreateAsync(record, sandbox, image, handler, cdiDevices, imageVolumes, cancellationToken);
                _events.Publish(record, ContainerEventType.ContainerCreatedEvent);
            }
            catch (Exception ex)
            {
                Log.ContainerCreateFailed(_logger, ex, id, metadata.Name, sandbox.Id);
                await _teardown.DestroyAsync(record, handler, strict: false, CancellationToken.None);
                _locks.Forget(id);
                if (ex is RuntimeException) throw;
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"creating container \"{metadata.Name}\" in pod sandbox {sandbox.Id}: {ex.Message}", ex);
            }
        }
        Log.ContainerCreated(_logger, id, metadata.Name, sandbox.Id);
        return id;
    }

    /// <summary>The CDI devices the config asks for (field and cdi.k8s.io/* annotations), from the spec directories.</summary>
    private IReadOnlyList<CdiRegistry.ResolvedDevice> ResolveCdiDevices(ContainerConfig config)
    {
        var requested = CdiNames.Requested(config);
        if (requested.Count == 0) return [];
        if (!_cdiEnabled)
            throw RuntimeException.InvalidField(requested[0].Field, "CDI devices are disabled on this node (runtime.enable_cdi = false)");
        try
        {
            return _cdi.Resolve(requested.Select(r => r.Name));
        }
        catch (CdiResolutionException ex)
        {
            var field = requested.First(r => r.Name == ex.Device).Field;
            throw RuntimeException.InvalidField(field, ex.Message);
        }
    }

    /// <summary>
    /// PID namespace mode TARGET (kubectl debug --target): the target must be a running container of the same pod,
    /// named by its pid checked against the recorded start time so a recycled pid is never joined.
    /// </summary>
    private string? TargetPidNamespace(string targetId, string sandboxId)
    {
        if (_store.LookupContainer(targetId) is not { Phase: ContainerPhase.Running } target || target.SandboxId != sandboxId) return null;
        return new ProcessIdentity(target.Pid, target.PidStartTime).IsAlive()
            ? Interop.Procfs.ProcFile.OfProcess(target.Pid, "ns/pid")
            : null;
    }

    /// <summary>
    /// A bind mount with uid/gid mappings becomes an idmapped clone of its source under the bundle (runc 1.1.5 has no
    /// idmap mount option, so runc binds the clone). The mappings must be the pod's: the clone is idmapped through
    /// the pod's pinned user namespace, so host owner 0 is the container's root.
    /// </summary>
    private string IdmapBindSource(ContainerRecord record, SandboxRecord sandbox, string source, Mount mount, string field)
    {
        var pod = sandbox.UserNamespaceMappings;
        if (pod is null || string.IsNullOrEmpty(sandbox.UserNamespacePath))
            throw RuntimeException.InvalidField($"{field}.uidMappings", "id-mapped mounts need a pod with its own user namespace (userns_options mode POD)");
        if (!pod.Matches(mount.UidMappings, mount.GidMappings))
            throw RuntimeException.InvalidField($"{field}.uidMappings", "must be the pod's user namespace mappings (one uid and one gid range, the same as userns_options)");
        var target = Path.Combine(record.IdmappedMountsPath, ObjectIds.New());
        _mounts.MountIdmapped(source, target, sandbox.UserNamespacePath);
        return target;
    }

    private async Task BuildAndCreateAsync(
        ContainerRecord record, SandboxRecord sandbox, ImageRecord image, IRuntimeHandler handler,
        IReadOnlyList<CdiRegistry.ResolvedDevice> cdiDevices, IReadOnlyList<ImageVolumeManager.Request> imageVolumes,
        CancellationToken cancellationToken)
    {
        OwnedDirectory.Ensure(record.Directory);
        // The upper dir's mode is the container's "/": open, but only reachable through the overlay mount.
        OwnedDirectory.Ensure(record.UpperPath, FileModes.SharedDirectory);
        OwnedDirectory.Ensure(record.WorkPath);
        OwnedDirectory.Ensure(record.RootfsPath);
        OwnedDirectory.Ensure(record.BundleDirectory);
        OwnedDirectory.Ensure(_layout.ExitDir);

        record.RootfsMounted = true;
        await _store.SaveAsync(record, CancellationToken.None);
        var userNamespace = sandbox.UserNamespaceMappings;
        var idmap = userNamespace is not null && sandbox.UserNamespacePath is { } userPath
            ? new RootfsIdmap(userPath, userNamespace.HostRootUid, userNamespace.HostRootGid)
            : null;
        if (idmap is not null) UserNamespaceAccess.OpenContainerDirectory(_layout, record.Directory, idmap.HostRootUid, idmap.HostRootGid);
        await _mounts.MountRootfsAsync(image.LayerDirs, record.UpperPath, record.WorkPath, record.RootfsPath, idmap, cancellationToken);
        var imageVolumeSources = await _imageVolumes.MountAsync(imageVolumes, sandbox, cancellationToken);

        var context = new ContainerSpecContext(
            record.Id,
            record.Config,
            sandbox.Config,
            image,
            record.RootfsPath,
            new SandboxNamespaces(sandbox.NetworkNamespacePath, sandbox.IpcNamespacePath, sandbox.UtsNamespacePath, sandbox.PidNamespacePath, sandbox.UserNamespacePath),
            record.CgroupsPath,
            new SandboxFiles(sandbox.HostnamePath, sandbox.HostsPath, sandbox.ResolvConfPath, sandbox.ShmPath),
            _host);
        var sc = record.Config.Linux?.SecurityContext;
        var labels = _selinux.ForContainer(sandbox.SelinuxLevel, sandbox.Config, sc, record.Metadata.Name);
        // crisp does not relabel volumes (see docs: Security model); say so where a relabel was asked for.
        foreach (var mount in record.Config.Mounts.Where(m => m.SelinuxRelabel && labels.Mount is not null))
            Log.RelabelNotDone(_logger, record.Id, mount.HostPath, labels.Mount!);
        var generated = ContainerSpecGenerator.Generate(context, new ContainerSpecOptions
        {
            AppArmorProfile = await _appArmor.ResolveAsync(sc, record.Metadata.Name, cancellationToken),
            SelinuxProcessLabel = labels.Process,
            SelinuxMountLabel = labels.Mount,
            SupportsRecursiveReadOnly = handler.Availability.SupportsRecursiveReadOnlyMounts,
            SandboxId = sandbox.Id,
            ResolveTargetPidNamespace = targetId => TargetPidNamespace(targetId, sandbox.Id),
            AllowedAnnotationPrefixes = _allowedAnnotations,
            IdmapBindSource = (source, mount, field) => IdmapBindSource(record, sandbox, source, mount, field),
            ImageVolumeSource = mount => imageVolumeSources[mount],
        });
        foreach (var ignored in generated.IgnoredRequests) Log.RequestIgnored(_logger, record.Id, ignored);
        if (cdiDevices.Count > 0)
        {
            try
            {
                CdiEditApplier.Apply(generated.Spec, cdiDevices);
            }
            catch (CdiResolutionException ex)
            {
                throw new RuntimeException(RuntimeErrorKind.InvalidArgument, $"config.CDI_devices: {ex.Message}", ex);
            }
        }
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
            _layout.ExitDir,
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
            record.PidStartTime = ProcessIdentity.ReadStartTime(pid) ?? 0;
        }
        await DetachHostMountsAsync(record);
        record.Phase = ContainerPhase.Created;
        await _store.SaveAsync(record, CancellationToken.None);
    }

    /// <summary>
    /// Once the runtime created the container, its init holds its own copy of the rootfs overlay (and of any idmapped
    /// bind source) in the container's mount namespace, pivoted into: the host's copies have done their job. Left in
    /// place, each created container adds a line of about 500 bytes to the host's mountinfo, which `runc create`
    /// reads and parses four times (twice for its cgroup mounts, twice in its init) and every `runc exec` again, and
    /// which each new container's mount namespace copies and drops: with 1,000 containers a bare `runc create` took
    /// 85-135 ms against 38-43 ms on the same node without those lines. Detached, the host's mount table holds only the
    /// creates in flight, and the overlay lives as long as the container's mount namespace (the kernel's last umount
    /// then syncs the upper layer, as crisp's own did). The container is reached through /proc/PID/root.
    /// </summary>
    private async Task DetachHostMountsAsync(ContainerRecord record)
    {
        await _mounts.UnmountRootfsAsync(record.RootfsPath, CancellationToken.None);
        _mounts.UnmountAllUnder(record.IdmappedMountsPath);
        record.RootfsMounted = false;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId}: volume {HostPath} asks for an SELinux relabel, which crisp does not do; it must already allow {MountLabel}")]
        public static partial void RelabelNotDone(ILogger logger, string containerId, string hostPath, string mountLabel);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId}: not applied: {Request}")]
        public static partial void RequestIgnored(ILogger logger, string containerId, string request);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Creating container {ContainerId} ({Name}) in pod sandbox {SandboxId} failed; rolling back")]
        public static partial void ContainerCreateFailed(ILogger logger, Exception exception, string containerId, string name, string sandboxId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} ({Name}) created in pod sandbox {SandboxId}")]
        public static partial void ContainerCreated(ILogger logger, string containerId, string name, string sandboxId);
    }
}
