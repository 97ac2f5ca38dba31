using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Runtime.Api;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Oci;
using Crisp.Runtime.Host;
using Crisp.Runtime.ImageVolumes;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// After the state database was set aside as unusable, rebuilds the records the host still proves: a container
/// whose bundle config.json (written by crisp, with its io.kubernetes.cri annotations) and conmon pid or exit file
/// exist, and the pod sandboxes those containers and the pinned namespaces name. What only the lost rows knew (pod
/// labels beyond the kubelet's own, log path, pod IP, handler other than the default) stays unknown; the ordinary
/// recovery that follows then asks the runtime for each container's real state and reads its exit file.
/// </summary>
public sealed partial class DiskStateRebuilder(
    IStateStore store, RuntimeOptions options, IImageManager images, PodNamespaces namespaces, IRuntimeMounts mounts, ILogger<DiskStateRebuilder> logger)
{
    /// <summary>crisp writes config.json itself; anything much larger is not one of its bundles.</summary>
    private const long MaxSpecBytes = 4 * 1024 * 1024;

    public readonly record struct Result(int Sandboxes, int Containers);

    public async Task<Result> RebuildAsync(CancellationToken cancellationToken)
    {
        var containers = new List<(ContainerRecord Record, JsonObject Annotations)>();
        var bundles = Path.Combine(options.StateDir, "containers");
        if (Directory.Exists(bundles))
        {
            foreach (var bundle in Directory.EnumerateDirectories(bundles))
            {
                try
                {
                    if (await ReadContainerAsync(bundle, cancellationToken) is { } found) containers.Add(found);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException or RuntimeException)
                {
                    LogSkipped(bundle, ex.Message);
                }
            }
        }

        var sandboxIds = containers.Select(c => c.Record.SandboxId)
            .Concat(Directory.Exists(namespaces.Directory)
                ? Directory.EnumerateDirectories(namespaces.Directory).Select(d => Path.GetFileName(d)!)
                : [])
            .Where(id => id.Length == 64 && id.All(char.IsAsciiHexDigitLower))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var sandboxId in sandboxIds)
        {
            var members = containers.Where(c => c.Record.SandboxId == sandboxId).ToList();
            await store.SaveAsync(BuildSandbox(sandboxId, members), cancellationToken);
        }
        foreach (var (record, _) in containers) await store.SaveAsync(record, cancellationToken);
        LogRebuilt(sandboxIds.Count, containers.Count);
        return new Result(sandboxIds.Count, containers.Count);
    }

    private async Task<(ContainerRecord, JsonObject)?> ReadContainerAsync(string bundle, CancellationToken cancellationToken)
    {
        var id = Path.GetFileName(bundle);
        var specPath = Path.Combine(bundle, "config.json");
        if (!File.Exists(specPath)) return null;
        var exitFile = Path.Combine(options.StateDir, "exits", id);
        if (ConmonFiles.ReadConmonPid(bundle) is null && !File.Exists(exitFile))
        {
            LogSkipped(bundle, "neither a conmon pid file nor an exit file: nothing proves the container ran");
            return null;
        }
        if (new FileInfo(specPath).Length > MaxSpecBytes) throw new FormatException($"{specPath} is larger than {MaxSpecBytes} bytes");
        var specJson = await File.ReadAllTextAsync(specPath, cancellationToken);
        var spec = JsonNode.Parse(specJson) as JsonObject ?? throw new FormatException($"{specPath} is not a JSON object");
        var annotations = spec["annotations"] as JsonObject ?? throw new FormatException($"{specPath} has no annotations");
        if (Annotation(annotations, SpecAnnotations.ContainerType) != SpecAnnotations.ContainerTypeContainer)
            throw new FormatException($"{specPath} is not a crisp container spec ({SpecAnnotations.ContainerType} missing)");
        var sandboxId = ObjectIds.RequireFileNameSafe(Annotation(annotations, SpecAnnotations.SandboxId), SpecAnnotations.SandboxId);
        ObjectIds.RequireFileNameSafe(id, "bundle directory");
        var name = Annotation(annotations, SpecAnnotations.ContainerName);
        var imageName = Annotation(annotations, SpecAnnotations.ImageName);
        var image = imageName.Length > 0 ? await images.FindAsync(imageName, cancellationToken) : null;

        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name, Attempt = Attempt(annotations) },
            Image = new ImageSpec { Image = imageName },
            Tty = spec["process"]?["terminal"]?.GetValue<bool>() == true,
        };
        foreach (var (key, value) in annotations)
        {
            if (!SpecAnnotations.ReservedPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)) && value is JsonValue v && v.TryGetValue<string>(out var text))
                config.Annotations[key] = text;
        }
        // The kubelet finds its containers by these labels; they follow from the annotations crisp wrote.
        config.Labels["io.kubernetes.container.name"] = name;
        config.Labels["io.kubernetes.pod.name"] = Annotation(annotations, SpecAnnotations.SandboxName);
        config.Labels["io.kubernetes.pod.namespace"] = Annotation(annotations, SpecAnnotations.SandboxNamespace);
        config.Labels["io.kubernetes.pod.uid"] = Annotation(annotations, SpecAnnotations.SandboxUid);

        var imageVolumes = await ImageVolumesOfAsync(spec, cancellationToken);
        var pid = ConmonFiles.ReadContainerPid(bundle) ?? 0;
        var record = new ContainerRecord
        {
            Id = id,
            SandboxId = sandboxId,
            Config = config,
            RuntimeHandler = options.DefaultHandler,
            CreatedAtNanos = new DateTimeOffset(File.GetLastWriteTimeUtc(specPath)).ToUnixTimeMilliseconds() * 1_000_000,
            // Recovery asks the runtime next: a stopped container becomes Exited with the code from its exit file.
            Phase = ContainerPhase.Running,
            StartedAtNanos = new DateTimeOffset(File.GetLastWriteTimeUtc(specPath)).ToUnixTimeMilliseconds() * 1_000_000,
            Pid = pid,
            PidStartTime = pid > 0 ? ProcessIdentity.ReadStartTime(pid) ?? 0 : 0,
            ImageId = image?.Id ?? "",
            ImageName = imageName,
            ImageRef = image is null ? imageName : image.RepoDigests.FirstOrDefault() ?? image.Id,
            LayerDirs = image?.LayerDirs.ToList() ?? [],
            ImageVolumes = imageVolumes,
            Directory = Path.Combine(options.Root, "containers", id),
            BundleDirectory = bundle,
            CgroupsPath = spec["linux"]?["cgroupsPath"]?.GetValue<string>() ?? "",
            SpecJson = specJson,
        };
        record.RootfsMounted = mounts.IsMountPoint(record.RootfsPath);
        LogRecovered(id, name, sandboxId);
        return (record, annotations);
    }

    /// <summary>
    /// The images the spec binds as volumes (sources in the shared image volume mounts), so the rebuilt record keeps
    /// their mount at start and their layers out of image GC, as the lost record did. An image whose record is gone
    /// too keeps its mount only: its layers are unknown.
    /// </summary>
    private async Task<List<ImageVolumeUse>> ImageVolumesOfAsync(JsonObject spec, CancellationToken cancellationToken)
    {
        var layout = RuntimeLayout.From(options);
        var imageIds = (spec["mounts"] as JsonArray ?? [])
            .Select(m => m?["source"] is JsonValue v && v.TryGetValue<string>(out var source) ? ImageVolumeManager.ImageIdOfSource(layout, source) : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
        var uses = new List<ImageVolumeUse>();
        foreach (var imageId in imageIds)
        {
            var image = await images.FindAsync(imageId, cancellationToken);
            uses.Add(new ImageVolumeUse(imageId, image?.LayerDirs.ToList() ?? []));
        }
        return uses;
    }

    private SandboxRecord BuildSandbox(string sandboxId, List<(ContainerRecord Record, JsonObject Annotations)> members)
    {
        var annotations = members.Select(m => m.Annotations).FirstOrDefault() ?? [];
        var metadata = new PodSandboxMetadata
        {
            Name = Annotation(annotations, SpecAnnotations.SandboxName),
            Namespace = Annotation(annotations, SpecAnnotations.SandboxNamespace),
            Uid = Annotation(annotations, SpecAnnotations.SandboxUid),
        };
        var pinned = namespaces.Load(sandboxId);
        var config = new PodSandboxConfig
        {
            Metadata = metadata,
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption
                    {
                        Network = pinned?.NetworkPath is null ? NamespaceMode.Node : NamespaceMode.Pod,
                        Ipc = pinned?.IpcPath is null ? NamespaceMode.Node : NamespaceMode.Pod,
                        Pid = pinned?.PidPath is null ? NamespaceMode.Container : NamespaceMode.Pod,
                    },
                },
            },
        };
        config.Labels["io.kubernetes.pod.name"] = metadata.Name;
        config.Labels["io.kubernetes.pod.namespace"] = metadata.Namespace;
        config.Labels["io.kubernetes.pod.uid"] = metadata.Uid;
        var userNamespace = pinned?.UserPath is null ? null : UserNamespaceOf(members);
        config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = userNamespace;
        var directory = Path.Combine(options.Root, "sandboxes", sandboxId);
        var stateDirectory = Path.Combine(options.StateDir, "sandboxes", sandboxId);
        var shm = Path.Combine(stateDirectory, "shm");
        string FileIn(string name) => File.Exists(Path.Combine(directory, name)) ? Path.Combine(directory, name) : "";
        // A pinned user namespace whose mappings no container spec states cannot take new containers.
        var ready = pinned is not null && (pinned.NetworkPath ?? pinned.IpcPath ?? pinned.UtsPath) is not null
            && (pinned.UserPath is null || userNamespace is not null);
        LogRecovered(sandboxId, $"{metadata.Namespace}/{metadata.Name}", ready ? "ready" : "not ready");
        return new SandboxRecord
        {
            Id = sandboxId,
            Config = config,
            RuntimeHandler = options.DefaultHandler,
            CreatedAtNanos = Directory.Exists(directory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(directory)).ToUnixTimeMilliseconds() * 1_000_000 : UnixNanos.Now(),
            Phase = ready ? SandboxPhase.Ready : SandboxPhase.NotReady,
            CgroupParent = members.Select(m => CgroupParentOf(m.Record.CgroupsPath)).FirstOrDefault(p => p.Length > 0) ?? "",
            NetworkNamespacePath = pinned?.NetworkPath,
            IpcNamespacePath = pinned?.IpcPath,
            UtsNamespacePath = pinned?.UtsPath,
            PidNamespacePath = pinned?.PidPath,
            UserNamespacePath = pinned?.UserPath,
            Directory = directory,
            StateDirectory = stateDirectory,
            HostnamePath = FileIn("hostname"),
            HostsPath = FileIn("hosts"),
            ResolvConfPath = FileIn("resolv.conf"),
            ShmPath = mounts.IsMountPoint(shm) ? shm : "/dev/shm",
            ShmMounted = mounts.IsMountPoint(shm),
            // The pod's SELinux level stays reserved: its containers' mount labels carry it.
            SelinuxLevel = members.Select(m => SelinuxLevelOf(m.Record.SpecJson)).FirstOrDefault(l => l.Length > 0) ?? "",
        };
    }

    private static string SelinuxLevelOf(string specJson) =>
        JsonNode.Parse(specJson)?["linux"]?["mountLabel"] is JsonValue label && label.TryGetValue<string>(out var text)
            ? SelinuxContext.TryParse(text)?.Level ?? ""
            : "";

    /// <summary>The pod's user namespace mappings as its containers' specs state them (every member joined it), or null.</summary>
    private static UserNamespace? UserNamespaceOf(List<(ContainerRecord Record, JsonObject Annotations)> members)
    {
        foreach (var (record, _) in members)
        {
            if (JsonNode.Parse(record.SpecJson)?["linux"] is not JsonObject linux) continue;
            if (Single(linux["uidMappings"]) is not { } uid || Single(linux["gidMappings"]) is not { } gid) continue;
            return new UserNamespace { Mode = NamespaceMode.Pod, Uids = { uid }, Gids = { gid } };
        }
        return null;

        static IDMapping? Single(JsonNode? mappings) => mappings is JsonArray { Count: 1 } array && array[0] is JsonObject m
            ? new IDMapping
            {
                ContainerId = m["containerID"]?.GetValue<uint>() ?? 0,
                HostId = m["hostID"]?.GetValue<uint>() ?? 0,
                Length = m["size"]?.GetValue<uint>() ?? 0,
            }
            : null;
    }

    /// <summary>cgroupfs "/parent/id" → "/parent"; systemd "slice:prefix:id" → "slice".</summary>
    private static string CgroupParentOf(string cgroupsPath) =>
        cgroupsPath.Contains(':') ? cgroupsPath[..cgroupsPath.IndexOf(':')]
        : cgroupsPath.Contains('/') ? cgroupsPath[..cgroupsPath.LastIndexOf('/')]
        : "";

    private static uint Attempt(JsonObject annotations) =>
        uint.TryParse(Annotation(annotations, "io.kubernetes.container.restartCount"), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) ? attempt : 0;

    private static string Annotation(JsonObject annotations, string key) =>
        annotations[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilding state from disk: {Id} ({Name}) recovered as part of {Parent}")]
    private partial void LogRecovered(string id, string name, string parent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilding state from disk: skipped {Path}: {Reason}")]
    private partial void LogSkipped(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilt {Sandboxes} pod sandboxes and {Containers} containers from disk after the state database was set aside")]
    private partial void LogRebuilt(int sandboxes, int containers);
}
