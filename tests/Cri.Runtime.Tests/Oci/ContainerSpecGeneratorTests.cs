using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class ContainerSpecGeneratorTests : IDisposable
{
    private readonly SpecFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    private static ContainerSpecOptions Options(HostMountPropagation hostPropagation = HostMountPropagation.Private, bool rro = false) =>
        new() { Architecture = "amd64", ProbeHostMountPropagation = _ => hostPropagation, SupportsRecursiveReadOnly = rro, SandboxId = "sandbox-1", AllCapabilities = DefaultCapabilities.AllKnown };

    private OciSpec Generate(ContainerConfig? config = null, PodSandboxConfig? sandbox = null, HostFeatures? host = null,
        ContainerSpecOptions? options = null, Crisp.ImageService.Api.ImageConfig? image = null, SandboxNamespaces? namespaces = null) =>
        ContainerSpecGenerator.Generate(fixture.Context(config, image, sandbox, host, namespaces), options ?? Options()).Spec;

    [Fact]
    public void BasicSpecHasProcessRootAndLinuxSections()
    {
        var config = SpecFixture.Config();
        config.WorkingDir = "/work";
        config.Tty = true;
        var result = ContainerSpecGenerator.Generate(fixture.Context(config, SpecFixture.ImageConfig(user: "alice")), Options());
        var spec = result.Spec;

        Assert.Equal("1.1.0", spec.OciVersion);
        Assert.Equal(["/bin/sh"], spec.Process!.Args);
        Assert.Equal("/work", spec.Process.Cwd);
        Assert.True(spec.Process.Terminal);
        Assert.Equal((1000u, 1000u), (spec.Process.User.Uid, spec.Process.User.Gid));
        Assert.Equal([1000u, 29, 50], spec.Process.User.AdditionalGids);
        Assert.Equal("alice", result.User.Username);
        Assert.Equal(fixture.Rootfs, spec.Root!.Path);
        Assert.Null(spec.Root.Readonly);
        Assert.Equal("pod-host", spec.Hostname);
        Assert.Equal("/kubepods/podx/c0ffee", spec.Linux!.CgroupsPath);
        Assert.Null(spec.Linux.Seccomp);
        Assert.Null(spec.Process.NoNewPrivileges);
        Assert.Equal("container", spec.Annotations![SpecAnnotations.ContainerType]);
        Assert.Equal("sandbox-1", spec.Annotations[SpecAnnotations.SandboxId]);
        Assert.Equal("app", spec.Annotations[SpecAnnotations.ContainerName]);
        Assert.Equal("example.test/app:1", spec.Annotations[SpecAnnotations.ImageName]);
        Assert.Equal("pod", spec.Annotations[SpecAnnotations.SandboxName]);
    }

    [Fact]
    public void WorkingDirFallsBackToImageThenRoot()
    {
        Assert.Equal("/srv", Generate(image: SpecFixture.ImageConfig(workingDir: "/srv")).Process!.Cwd);
        Assert.Equal("/", Generate().Process!.Cwd);
    }

    [Fact]
    public void ConfigAnnotationsAreKeptButCriKeysWin()
    {
        var config = SpecFixture.Config();
        config.Annotations["team"] = "blue";
        config.Annotations[SpecAnnotations.ContainerType] = "sandbox";
        var spec = Generate(config);
        Assert.Equal("blue", spec.Annotations!["team"]);
        Assert.Equal("container", spec.Annotations[SpecAnnotations.ContainerType]);
    }

    [Fact]
    public void AnnotationsTheRuntimeInterpretsAreDroppedUnlessAllowedAndEachDropIsReported()
    {
        var config = SpecFixture.Config();
        config.Annotations["team"] = "blue";
        config.Annotations["io.kubernetes.container.hash"] = "abc";
        config.Annotations["run.oci.keep_original_groups"] = "1";
        config.Annotations["org.systemd.property.CPUQuota"] = "'100%'";
        config.Annotations["io.crisp.container-id"] = "forged";
        config.Annotations[SpecAnnotations.SandboxName] = "forged";

        var result = ContainerSpecGenerator.Generate(fixture.Context(config), Options());
        var annotations = result.Spec.Annotations!;

        Assert.Equal("blue", annotations["team"]);
        Assert.Equal("abc", annotations["io.kubernetes.container.hash"]);
        Assert.DoesNotContain("run.oci.keep_original_groups", annotations.Keys);
        Assert.DoesNotContain("org.systemd.property.CPUQuota", annotations.Keys);
        Assert.DoesNotContain("io.crisp.container-id", annotations.Keys);
        Assert.NotEqual("forged", annotations[SpecAnnotations.SandboxName]);
        Assert.Contains(result.IgnoredRequests, r => r.Contains("run.oci.keep_original_groups") && r.Contains("runtime.allowed_annotations"));
        Assert.Contains(result.IgnoredRequests, r => r.Contains("org.systemd.property.CPUQuota"));
        Assert.Contains(result.IgnoredRequests, r => r.Contains("io.crisp.container-id") && r.Contains("reserved"));
    }

    [Fact]
    public void AnAllowedPrefixLetsOnlyItsAnnotationsThrough()
    {
        var config = SpecFixture.Config();
        config.Annotations["run.oci.keep_original_groups"] = "1";
        config.Annotations["run.oci.handler"] = "krun";
        config.Annotations["org.systemd.property.CPUQuota"] = "'100%'";

        var annotations = Generate(config, options: Options() with { AllowedAnnotationPrefixes = ["run.oci.keep_", "io.kubernetes.cri."] }).Annotations!;

        Assert.Equal("1", annotations["run.oci.keep_original_groups"]);
        Assert.DoesNotContain("run.oci.handler", annotations.Keys);
        Assert.DoesNotContain("org.systemd.property.CPUQuota", annotations.Keys);
    }

    [Fact]
    public void DefaultMaskedAndReadonlyPaths()
    {
        var spec = Generate();
        Assert.Equal(ContainerSpecGenerator.DefaultMaskedPaths, spec.Linux!.MaskedPaths);
        Assert.Contains("/proc/kcore", spec.Linux.MaskedPaths!);
        Assert.Equal(ContainerSpecGenerator.DefaultReadonlyPaths, spec.Linux.ReadonlyPaths);
    }

    [Fact]
    public void ExplicitMaskedPathsReplaceDefaults()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.MaskedPaths.Add("/proc/secret");
        config.Linux.SecurityContext.ReadonlyPaths.Add("/proc/ro");
        var spec = Generate(config);
        Assert.Equal(["/proc/secret"], spec.Linux!.MaskedPaths);
        Assert.Equal(["/proc/ro"], spec.Linux.ReadonlyPaths);
    }

    [Fact]
    public void PrivilegedContainerIsUnconfined()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.Privileged = true;
        config.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault };
        var spec = Generate(config, SpecFixture.Sandbox(privileged: true));

        Assert.Null(spec.Linux!.Seccomp);
        Assert.Null(spec.Linux.MaskedPaths);
        Assert.Null(spec.Linux.ReadonlyPaths);
        Assert.Equal(DefaultCapabilities.AllKnown, spec.Process!.Capabilities!.Bounding);
        Assert.Contains("rw", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
        var rule = Assert.Single(spec.Linux.Resources!.Devices!);
        Assert.True(rule.Allow);
        Assert.Equal("rwm", rule.Access);
        Assert.Contains(spec.Linux.Devices!, d => d.Path == "/dev/null" && d.Major == 1 && d.Minor == 3 && d.Type == "c");
    }

    [Fact]
    public void PrivilegedContainerNeedsPrivilegedSandbox()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.Privileged = true;
        var e = Assert.Throws<RuntimeException>(() => Generate(config));
        Assert.StartsWith("config.linux.security_context.privileged:", e.Message);
    }

    [Fact]
    public void UnprivilegedContainerHasReadOnlySysAndDenyByDefaultDevices()
    {
        var spec = Generate();
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
        var rules = spec.Linux!.Resources!.Devices!;
        Assert.False(rules[0].Allow);
        Assert.Contains(rules, r => r.Allow && r.Type == "c" && r.Major == 1 && r.Minor == 3 && r.Access == "rwm");
        Assert.Null(spec.Linux.Devices);
    }

    [Fact]
    public void SeccompRuntimeDefaultAndNoNewPrivs()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault };
        config.Linux.SecurityContext.NoNewPrivs = true;
        var spec = Generate(config);
        Assert.NotNull(spec.Linux!.Seccomp);
        Assert.True(spec.Process!.NoNewPrivileges);
    }

    [Fact]
    public void DefaultMountsAndPodFiles()
    {
        var spec = Generate();
        var byDest = spec.Mounts!.ToDictionary(m => m.Destination);
        Assert.Equal("proc", byDest["/proc"].Type);
        Assert.Equal("devpts", byDest["/dev/pts"].Type);
        Assert.Equal("mqueue", byDest["/dev/mqueue"].Type);
        Assert.Equal("cgroup", byDest["/sys/fs/cgroup"].Type);
        Assert.Equal(Path.Combine(fixture.PodDir, "shm"), byDest["/dev/shm"].Source);
        Assert.Equal(Path.Combine(fixture.PodDir, "hosts"), byDest["/etc/hosts"].Source);
        Assert.Equal(Path.Combine(fixture.PodDir, "resolv.conf"), byDest["/etc/resolv.conf"].Source);
        Assert.Contains("rw", byDest["/etc/hostname"].Options!);
        // /dev must be mounted before anything below it.
        var order = spec.Mounts!.Select(m => m.Destination).ToList();
        Assert.True(order.IndexOf("/dev") < order.IndexOf("/dev/pts"));
        Assert.True(order.IndexOf("/sys") < order.IndexOf("/sys/fs/cgroup"));
    }

    [Fact]
    public void ReadonlyRootfsMakesPodFilesReadOnly()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.ReadonlyRootfs = true;
        var spec = Generate(config);
        Assert.True(spec.Root!.Readonly);
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/etc/resolv.conf").Options!);
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/etc/hosts").Options!);
    }

    private Mount HostDirMount(string containerPath, MountPropagation propagation = MountPropagation.PropagationPrivate, bool readOnly = false)
    {
        var hostDir = Path.Combine(fixture.Root, "vol" + containerPath.Replace('/', '_'));
        Directory.CreateDirectory(hostDir);
        return new Mount { ContainerPath = containerPath, HostPath = hostDir, Propagation = propagation, Readonly = readOnly };
    }

    [Fact]
    public void CriMountsAreBindMountsWithPropagationAndSortedByDepth()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(HostDirMount("/data/deep/child", readOnly: true));
        config.Mounts.Add(HostDirMount("/data"));
        var spec = Generate(config);
        var mounts = spec.Mounts!.Where(m => m.Destination.StartsWith("/data", StringComparison.Ordinal)).ToList();

        Assert.Equal(["/data", "/data/deep/child"], mounts.Select(m => m.Destination));
        Assert.Equal(["rbind", "rprivate", "rw"], mounts[0].Options);
        Assert.Equal(["rbind", "rprivate", "ro"], mounts[1].Options);
        Assert.Equal("bind", mounts[0].Type);
        Assert.Null(spec.Linux!.RootfsPropagation);
    }

    [Fact]
    public void HostToContainerPropagationMakesRootfsSlave()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(HostDirMount("/in", MountPropagation.PropagationHostToContainer));
        var spec = Generate(config, options: Options(HostMountPropagation.Slave));
        Assert.Contains("rslave", spec.Mounts!.Single(m => m.Destination == "/in").Options!);
        Assert.Equal("rslave", spec.Linux!.RootfsPropagation);
    }

    [Fact]
    public void BidirectionalPropagationMakesRootfsShared()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(HostDirMount("/in", MountPropagation.PropagationHostToContainer));
        config.Mounts.Add(HostDirMount("/both", MountPropagation.PropagationBidirectional));
        var spec = Generate(config, options: Options(HostMountPropagation.Shared));
        Assert.Contains("rshared", spec.Mounts!.Single(m => m.Destination == "/both").Options!);
        Assert.Equal("rshared", spec.Linux!.RootfsPropagation);
    }

    [Fact]
    public void BidirectionalPropagationFromPrivateHostMountIsRefused()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(HostDirMount("/both", MountPropagation.PropagationBidirectional));
        var e = Assert.Throws<RuntimeException>(() => Generate(config, options: Options(HostMountPropagation.Private)));
        Assert.StartsWith("config.mounts[0].propagation:", e.Message);
    }

    [Fact]
    public void RecursiveReadOnlyNeedsRuntimeSupport()
    {
        var config = SpecFixture.Config();
        var mount = HostDirMount("/rro", readOnly: true);
        mount.RecursiveReadOnly = true;
        config.Mounts.Add(mount);

        var e = Assert.Throws<RuntimeException>(() => Generate(config, options: Options(rro: false)));
        Assert.StartsWith("config.mounts[0].recursive_read_only:", e.Message);
        var spec = Generate(config, options: Options(rro: true));
        Assert.Equal(["rbind", "rprivate", "rro"], spec.Mounts!.Single(m => m.Destination == "/rro").Options);
    }

    [Fact]
    public void CriMountOverPodFileReplacesTheDefault()
    {
        var config = SpecFixture.Config();
        var hostsFile = Path.Combine(fixture.Root, "my-hosts");
        File.WriteAllText(hostsFile, "");
        config.Mounts.Add(new Mount { ContainerPath = "/etc/hosts", HostPath = hostsFile });
        var spec = Generate(config);
        Assert.Equal(hostsFile, Assert.Single(spec.Mounts!, m => m.Destination == "/etc/hosts").Source);
    }

    [Fact]
    public void MissingMountSourceAndImageVolumesNameTheField()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/x", HostPath = Path.Combine(fixture.Root, "absent") });
        Assert.StartsWith("config.mounts[0].host_path:", Assert.Throws<RuntimeException>(() => Generate(config)).Message);

        config = SpecFixture.Config();
        config.Mounts.Add(HostDirMount("/ok"));
        config.Mounts.Add(new Mount { ContainerPath = "/img", Image = new ImageSpec { Image = "example.test/data:1" } });
        Assert.StartsWith("config.mounts[1].image:", Assert.Throws<RuntimeException>(() => Generate(config)).Message);
    }

    [Fact]
    public void AnImageVolumeIsAReadOnlyBindOfItsPreparedSourceWhateverReadonlySays()
    {
        var config = SpecFixture.Config();
        var volume = new Mount { ContainerPath = "/img", Image = new ImageSpec { Image = "example.test/data:1" }, Readonly = false };
        config.Mounts.Add(volume);
        var source = Path.Combine(fixture.Root, "image-volume");
        var spec = Generate(config, options: Options() with { ImageVolumeSource = m => ReferenceEquals(m, volume) ? source : throw new InvalidOperationException() });
        var mount = Assert.Single(spec.Mounts!, m => m.Destination == "/img");
        Assert.Equal(("bind", source), (mount.Type, mount.Source));
        Assert.Equal(["rbind", "rprivate", "ro"], mount.Options);
    }

    [Fact]
    public void OomScoreAdjIsClampedToWhatTheHostAllows()
    {
        var config = SpecFixture.Config();
        config.Linux.Resources.OomScoreAdj = -998;
        Assert.Equal(0, Generate(config, host: SpecFixture.Host(minOom: 0)).Process!.OomScoreAdj);
        Assert.Equal(-998, Generate(config, host: SpecFixture.Host(minOom: -1000)).Process!.OomScoreAdj);
        config.Linux.Resources.OomScoreAdj = 1000;
        Assert.Equal(1000, Generate(config, host: SpecFixture.Host(minOom: 0)).Process!.OomScoreAdj);
    }

    [Fact]
    public void ResourcesMapOntoCgroupSettings()
    {
        var config = SpecFixture.Config();
        var r = config.Linux.Resources;
        r.CpuShares = 512;
        r.CpuQuota = 50000;
        r.CpuPeriod = 100000;
        r.CpusetCpus = "0-1";
        r.CpusetMems = "0";
        r.MemoryLimitInBytes = 64 << 20;
        r.MemorySwapLimitInBytes = 128 << 20;
        r.HugepageLimits.Add(new HugepageLimit { PageSize = "2MB", Limit = 4 << 20 });
        var resources = Generate(config).Linux!.Resources!;

        Assert.Equal((512ul, 50000L, 100000ul, "0-1", "0"),
            (resources.Cpu!.Shares!.Value, resources.Cpu.Quota!.Value, resources.Cpu.Period!.Value, resources.Cpu.Cpus, resources.Cpu.Mems));
        Assert.Equal((64L << 20, 128L << 20), (resources.Memory!.Limit!.Value, resources.Memory.Swap!.Value));
        Assert.Equal("2MB", Assert.Single(resources.HugepageLimits!).PageSize);
    }

    [Fact]
    public void UnifiedNeedsCgroupV2()
    {
        var config = SpecFixture.Config();
        config.Linux.Resources.Unified["memory.high"] = "1000000";
        var e = Assert.Throws<RuntimeException>(() => Generate(config, host: SpecFixture.Host(cgroupV2: false)));
        Assert.StartsWith("config.linux.resources.unified:", e.Message);
        var spec = Generate(config, host: SpecFixture.Host(cgroupV2: true));
        Assert.Equal("1000000", spec.Linux!.Resources!.Unified!["memory.high"]);
        Assert.Contains(spec.Linux.Namespaces!, n => n.Type == "cgroup");
    }

    [Fact]
    public void DevicesAreStatedOnTheHost()
    {
        var config = SpecFixture.Config();
        config.Devices.Add(new Device { HostPath = "/dev/null", ContainerPath = "/dev/mynull", Permissions = "rw" });
        var spec = Generate(config);
        var device = Assert.Single(spec.Linux!.Devices!);
        Assert.Equal(("c", "/dev/mynull", 1L, 3L), (device.Type, device.Path, device.Major, device.Minor));
        Assert.Contains(spec.Linux.Resources!.Devices!, r => r.Allow && r.Major == 1 && r.Minor == 3 && r.Access == "rw");

        config = SpecFixture.Config();
        config.Devices.Add(new Device { HostPath = "/dev/does-not-exist", ContainerPath = "/dev/x" });
        Assert.StartsWith("config.devices[0].host_path:", Assert.Throws<RuntimeException>(() => Generate(config)).Message);
    }

    [Fact]
    public void PodNamespacesAreJoinedAndHostOnesOmitted()
    {
        var spec = Generate();
        var ns = spec.Linux!.Namespaces!.ToDictionary(n => n.Type, n => n.Path);
        Assert.Null(ns["mount"]);
        Assert.Null(ns["pid"]);
        Assert.Equal("/run/netns/pod", ns["network"]);
        Assert.Equal("/proc/1/ns/ipc", ns["ipc"]);
        Assert.Equal("/proc/1/ns/uts", ns["uts"]);
        Assert.DoesNotContain("cgroup", ns.Keys);
    }

    [Fact]
    public void HostNetworkSharesNetworkAndUtsAndDropsHostname()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Pid = NamespaceMode.Node, Ipc = NamespaceMode.Node };
        var spec = Generate(config);
        var types = spec.Linux!.Namespaces!.Select(n => n.Type).ToList();
        Assert.Equal(["mount"], types);
        Assert.Null(spec.Hostname);
        Assert.Equal("/dev/shm", spec.Mounts!.Single(m => m.Destination == "/dev/shm").Source);
    }

    [Fact]
    public void SharedPodPidNamespace()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod };
        var spec = Generate(config, namespaces: new SandboxNamespaces(null, null, null, "/proc/42/ns/pid"));
        Assert.Equal("/proc/42/ns/pid", spec.Linux!.Namespaces!.Single(n => n.Type == "pid").Path);
    }

    [Fact]
    public void TargetPidNamespaceWithoutResolverIsUnimplemented()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Target, TargetId = "other" };
        var e = Assert.Throws<RuntimeException>(() => Generate(config));
        Assert.Equal(RuntimeErrorKind.Unimplemented, e.Kind);
        Assert.Contains("target_id", e.Message);

        var spec = Generate(config, options: Options() with { ResolveTargetPidNamespace = id => id == "other" ? "/proc/7/ns/pid" : null });
        Assert.Equal("/proc/7/ns/pid", spec.Linux!.Namespaces!.Single(n => n.Type == "pid").Path);
    }

    private static PodSandboxConfig UserNamespacePod()
    {
        var sandbox = SpecFixture.Sandbox();
        sandbox.Linux.SecurityContext.NamespaceOptions.UsernsOptions = Namespaces.UserNamespaceMappingsTests.Pod(hostId: 131072);
        return sandbox;
    }

    private static readonly SandboxNamespaces UserNamespacePaths = new("/ns/net", "/ns/ipc", "/ns/uts", null, "/ns/user");

    [Fact]
    public void A_pod_user_namespace_is_joined_by_path_with_its_mappings()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = UserNamespacePod().Linux.SecurityContext.NamespaceOptions.Clone();
        var spec = Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths);
        Assert.Equal("/ns/user", spec.Linux!.Namespaces!.Single(n => n.Type == "user").Path);
        var uid = Assert.Single(spec.Linux.UidMappings!);
        Assert.Equal((0u, 131072u, 65536u), (uid.ContainerId, uid.HostId, uid.Size));
        Assert.Equal(131072u, Assert.Single(spec.Linux.GidMappings!).HostId);
        // A container that sends no userns_options of its own still joins the pod's.
        Assert.Contains(Generate(SpecFixture.Config(), UserNamespacePod(), namespaces: UserNamespacePaths).Linux!.Namespaces!, n => n.Type == "user");
    }

    [Fact]
    public void Without_a_pod_user_namespace_the_spec_has_none()
    {
        var spec = Generate();
        Assert.DoesNotContain(spec.Linux!.Namespaces!, n => n.Type == "user");
        Assert.Null(spec.Linux.UidMappings);
        Assert.Null(spec.Linux.GidMappings);
    }

    [Fact]
    public void A_container_userns_mode_that_disagrees_with_its_pod_is_refused()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { UsernsOptions = new UserNamespace { Mode = NamespaceMode.Node } };
        var e = Assert.Throws<RuntimeException>(() => Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options.mode:", e.Message);

        config.Linux.SecurityContext.NamespaceOptions = UserNamespacePod().Linux.SecurityContext.NamespaceOptions.Clone();
        e = Assert.Throws<RuntimeException>(() => Generate(config));
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options.mode:", e.Message);

        config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = Namespaces.UserNamespaceMappingsTests.Pod(hostId: 65536 * 9);
        e = Assert.Throws<RuntimeException>(() => Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths));
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options:", e.Message);
    }

    [Fact]
    public void An_idmapped_mount_binds_the_prepared_clone_and_is_refused_without_one()
    {
        var source = Directory.CreateDirectory(Path.Combine(fixture.Root, "volume")).FullName;
        var pod = UserNamespacePod().Linux.SecurityContext.NamespaceOptions.UsernsOptions;
        var config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = source, UidMappings = { pod.Uids }, GidMappings = { pod.Gids } });

        var e = Assert.Throws<RuntimeException>(() => Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths));
        Assert.StartsWith("config.mounts[0].uidMappings:", e.Message);

        var prepared = new List<(string Source, string Field)>();
        var spec = Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths, options: Options() with
        {
            IdmapBindSource = (s, _, field) => { prepared.Add((s, field)); return "/bundle/idmapped-mounts/x"; },
        });
        Assert.Equal([(source, "config.mounts[0]")], prepared);
        Assert.Equal("/bundle/idmapped-mounts/x", spec.Mounts!.Single(m => m.Destination == "/data").Source);
    }

    [Fact]
    public void An_idmapped_mount_must_be_private()
    {
        var source = Directory.CreateDirectory(Path.Combine(fixture.Root, "volume")).FullName;
        var pod = UserNamespacePod().Linux.SecurityContext.NamespaceOptions.UsernsOptions;
        var config = SpecFixture.Config();
        config.Mounts.Add(new Mount
        {
            ContainerPath = "/data", HostPath = source, Propagation = MountPropagation.PropagationHostToContainer,
            UidMappings = { pod.Uids }, GidMappings = { pod.Gids },
        });
        var e = Assert.Throws<RuntimeException>(() => Generate(config, UserNamespacePod(), namespaces: UserNamespacePaths,
            options: Options(HostMountPropagation.Shared) with { IdmapBindSource = (_, _, _) => "/x" }));
        Assert.StartsWith("config.mounts[0].propagation:", e.Message);
    }

    [Fact]
    public void NamespacedSysctlsOnly()
    {
        var sandbox = SpecFixture.Sandbox();
        sandbox.Linux.Sysctls["net.ipv4.ip_unprivileged_port_start"] = "0";
        sandbox.Linux.Sysctls["kernel/shm_rmid_forced"] = "1";
        var spec = Generate(sandbox: sandbox);
        Assert.Equal("0", spec.Linux!.Sysctl!["net.ipv4.ip_unprivileged_port_start"]);
        Assert.Equal("1", spec.Linux.Sysctl["kernel.shm_rmid_forced"]);

        sandbox.Linux.Sysctls["vm.overcommit_memory"] = "1";
        var e = Assert.Throws<RuntimeException>(() => Generate(sandbox: sandbox));
        Assert.Contains("vm.overcommit_memory", e.Message);
    }

    [Fact]
    public void SpecJsonRoundTripsAndOmitsNulls()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault };
        var spec = Generate(config);
        var json = spec.ToJson();

        Assert.DoesNotContain(":null", json);
        Assert.StartsWith("{\"ociVersion\":\"1.1.0\"", json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Array, root.GetProperty("process").GetProperty("args").ValueKind);
        Assert.Equal(0u, root.GetProperty("process").GetProperty("user").GetProperty("uid").GetUInt32());
        Assert.True(root.GetProperty("linux").GetProperty("resources").GetProperty("devices")[0].TryGetProperty("allow", out _));
        Assert.Equal(json, OciSpec.FromJson(json).ToJson());
    }

    [Fact]
    public void ResourcesAloneSerializeForRuncUpdate()
    {
        var resources = SpecResources.Build(new LinuxContainerResources { CpuQuota = 20000, CpuPeriod = 100000, MemoryLimitInBytes = 32 << 20 }, SpecFixture.Host());
        Assert.Equal("{\"memory\":{\"limit\":33554432},\"cpu\":{\"quota\":20000,\"period\":100000}}", SpecResources.ToJson(resources));
    }

    [Fact]
    public void PodFilesTheSandboxDidNotWriteAreNotBound()
    {
        File.Delete(Path.Combine(fixture.PodDir, "resolv.conf"));
        var spec = Generate();
        Assert.DoesNotContain(spec.Mounts!, m => m.Destination == "/etc/resolv.conf");
        Assert.Contains(spec.Mounts!, m => m.Destination == "/etc/hosts");
    }

    [Fact]
    public void ChosenLsmLabelsReachTheProcessAndMounts()
    {
        var unlabeled = Generate();
        Assert.Null(unlabeled.Process!.ApparmorProfile);
        Assert.Null(unlabeled.Process.SelinuxLabel);
        Assert.Null(unlabeled.Linux!.MountLabel);

        var labeled = Generate(options: Options() with
        {
            AppArmorProfile = "crisp-default",
            SelinuxProcessLabel = "system_u:system_r:container_t:s0:c1,c2",
            SelinuxMountLabel = "system_u:object_r:container_file_t:s0:c1,c2",
        });
        Assert.Equal("crisp-default", labeled.Process!.ApparmorProfile);
        Assert.Equal("system_u:system_r:container_t:s0:c1,c2", labeled.Process.SelinuxLabel);
        Assert.Equal("system_u:object_r:container_file_t:s0:c1,c2", labeled.Linux!.MountLabel);
    }

    [Fact]
    public void RelativeImageWorkdirIsAnchoredAtRoot()
    {
        Assert.Equal("/app", Generate(image: SpecFixture.ImageConfig(workingDir: "app")).Process!.Cwd);
    }
}
