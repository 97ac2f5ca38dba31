using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// Turns a CreateContainer request (config, pod config, image, prepared rootfs and pod resources) into an
/// OCI runtime spec, following the rules containerd's CRI plugin applies so workloads behave the same.
/// Pure apart from reading the rootfs' passwd/group, a Localhost seccomp file and host device nodes.
/// </summary>
public static class ContainerSpecGenerator
{
    public static GeneratedContainerSpec Generate(ContainerSpecContext context) => Generate(context, ContainerSpecOptions.Default);

    public static GeneratedContainerSpec Generate(ContainerSpecContext context, ContainerSpecOptions options)
    {
        var config = context.Config;
        var image = context.Image.Config;
        var sc = config.Linux?.SecurityContext;
        var sandboxSc = context.Sandbox.Linux?.SecurityContext;
        var privileged = sc?.Privileged == true;

        if (privileged && sandboxSc?.Privileged != true)
            throw RuntimeException.InvalidField("config.linux.security_context.privileged",
                "a privileged container needs a privileged pod sandbox (sandbox.linux.security_context.privileged)");

        var namespaceOptions = sc?.NamespaceOptions ?? sandboxSc?.NamespaceOptions ?? new NamespaceOption();
        var hostNetwork = namespaceOptions.Network == NamespaceMode.Node;
        var hostIpc = namespaceOptions.Ipc == NamespaceMode.Node;
        var readonlyRootfs = sc?.ReadonlyRootfs == true;

        var podHostname = !string.IsNullOrEmpty(context.Sandbox.Hostname)
            ? context.Sandbox.Hostname
            : hostNetwork ? Environment.MachineName : "";

        var user = UserResolver.Resolve(context.RootfsPath, image.User, sc);
        var capabilities = CapabilitiesBuilder.Build(sc, options.AllCapabilities);

        var process = new OciProcess
        {
            Terminal = config.Tty ? true : null,
            Args = ProcessArgs.Resolve(config, image),
            Env = ProcessEnvironment.Build(config, image, podHostname),
            Cwd = WorkingDirectory(config.WorkingDir, image.WorkingDir),
            User = new OciUser
            {
                Uid = (uint)user.Uid,
                Gid = (uint)user.Gid,
                AdditionalGids = user.AdditionalGids.Select(g => (uint)g).ToList(),
            },
            Capabilities = capabilities,
            NoNewPrivileges = sc?.NoNewPrivs == true ? true : null,
            OomScoreAdj = SpecResources.OomScoreAdj(config.Linux?.Resources, context.Host),
            ApparmorProfile = options.AppArmorProfile,
            SelinuxLabel = options.SelinuxProcessLabel,
        };

        var (mounts, rootfsPropagation) = SpecMounts.Build(context, options, privileged, readonlyRootfs, hostIpc);
        var (devices, deviceRules) = SpecDevices.Build(config, privileged, options);
        var namespaces = SpecNamespaces.Build(context, namespaceOptions, options);
        var userNamespace = SpecNamespaces.UserNamespace(context, namespaceOptions);
        var sharesHostUts = !namespaces.Any(n => n.Type == OciNamespace.Uts);

        var linux = new OciLinux
        {
            Namespaces = namespaces,
            // runc 1.1.5 joins the pinned user namespace by path and still needs its mappings (for the owners of
            // the devices it creates and to check the process user); it writes no map when joining.
            UidMappings = userNamespace?.OciUidMappings(),
            GidMappings = userNamespace?.OciGidMappings(),
            CgroupsPath = string.IsNullOrEmpty(context.CgroupsPath) ? null : context.CgroupsPath,
            Resources = SpecResources.Build(config.Linux?.Resources, context.Host, deviceRules),
            Devices = devices.Count > 0 ? devices : null,
            Seccomp = SeccompSelector.Select(sc, context.Host, options.Architecture, capabilities.Bounding ?? []),
            RootfsPropagation = rootfsPropagation,
            Sysctl = SpecSysctls.Build(context.Sandbox, hostNetwork, hostIpc),
            MaskedPaths = privileged ? null : PathsOrDefault(sc?.MaskedPaths, DefaultMaskedPaths),
            ReadonlyPaths = privileged ? null : PathsOrDefault(sc?.ReadonlyPaths, DefaultReadonlyPaths),
            MountLabel = options.SelinuxMountLabel,
        };

        var spec = new OciSpec
        {
            Process = process,
            Root = new OciRoot { Path = context.RootfsPath, Readonly = readonlyRootfs ? true : null },
            // With the host's UTS namespace runc refuses to set a hostname.
            Hostname = sharesHostUts || string.IsNullOrEmpty(podHostname) ? null : podHostname,
            Mounts = mounts,
            Annotations = Annotations(context, options, out var droppedAnnotations),
            Linux = linux,
        };
        return new GeneratedContainerSpec(spec, user) { IgnoredRequests = droppedAnnotations };
    }

    /// <summary>containerd's defaults: kernel interfaces that leak host information or allow host changes.</summary>
    public static IReadOnlyList<string> DefaultMaskedPaths { get; } =
    [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    public static IReadOnlyList<string> DefaultReadonlyPaths { get; } =
    [
        "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ];

    // proto3 cannot tell an empty list from an absent one, so "empty" means "the defaults" (the kubelet
    // only sends an empty list for the Unmasked proc mount, which requires user namespaces anyway).
    private static List<string> PathsOrDefault(IEnumerable<string>? requested, IReadOnlyList<string> defaults)
    {
        var list = requested?.ToList() ?? [];
        return list.Count > 0 ? list : [.. defaults];
    }

    private static string WorkingDirectory(string configured, string? imageDir)
    {
        if (!string.IsNullOrEmpty(configured))
            return SpecPaths.RequireCleanAbsolute(configured, "config.working_dir");
        if (string.IsNullOrEmpty(imageDir)) return "/";
        // The OCI spec needs an absolute cwd; Docker treats a relative WORKDIR as relative to "/".
        return imageDir.StartsWith('/') ? imageDir : "/" + imageDir;
    }

    private static Dictionary<string, string> Annotations(ContainerSpecContext context, ContainerSpecOptions options, out List<string> dropped)
    {
        dropped = [];
        var annotations = SpecAnnotations.Admit(context.Config.Annotations, options.AllowedAnnotationPrefixes, dropped);
        annotations[SpecAnnotations.ContainerType] = SpecAnnotations.ContainerTypeContainer;
        annotations[SpecAnnotations.ContainerName] = context.Config.Metadata?.Name ?? "";
        annotations[SpecAnnotations.ImageName] = ImageName(context);
        if (options.SandboxId is { Length: > 0 } sandboxId) annotations[SpecAnnotations.SandboxId] = sandboxId;
        if (context.Sandbox.Metadata is { } pod)
        {
            annotations[SpecAnnotations.SandboxName] = pod.Name;
            annotations[SpecAnnotations.SandboxNamespace] = pod.Namespace;
            annotations[SpecAnnotations.SandboxUid] = pod.Uid;
        }
        return annotations;
    }

    private static string ImageName(ContainerSpecContext context)
    {
        if (!string.IsNullOrEmpty(context.Config.Image?.UserSpecifiedImage)) return context.Config.Image.UserSpecifiedImage;
        if (!string.IsNullOrEmpty(context.Config.Image?.Image)) return context.Config.Image.Image;
        return context.Image.UserSpecifiedImage ?? context.Image.RepoTags.FirstOrDefault() ?? context.Image.Id;
    }
}
