using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Tests.Oci;

/// <summary>A throwaway rootfs with /etc/passwd and /etc/group plus a ready-made spec context around it.</summary>
internal sealed class SpecFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("crisp-oci-test-").FullName;
    public string Rootfs => Path.Combine(Root, "rootfs");
    public string PodDir => Path.Combine(Root, "pod");

    public const string Passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        alice:x:1000:1000:Alice:/home/alice:/bin/sh
        bob:x:1001:1001::/home/bob:/bin/sh
        """;

    public const string Group = """
        root:x:0:
        daemon:x:1:
        alice:x:1000:
        bob:x:1001:
        staff:x:50:alice,bob
        audio:x:29:alice
        video:x:44:bob
        """;

    public SpecFixture()
    {
        Directory.CreateDirectory(Path.Combine(Rootfs, "etc"));
        File.WriteAllText(Path.Combine(Rootfs, "etc/passwd"), Passwd);
        File.WriteAllText(Path.Combine(Rootfs, "etc/group"), Group);
        Directory.CreateDirectory(PodDir);
        foreach (var name in new[] { "hostname", "hosts", "resolv.conf" })
            File.WriteAllText(Path.Combine(PodDir, name), "");
        Directory.CreateDirectory(Path.Combine(PodDir, "shm"));
    }

    public static ImageConfig ImageConfig(
        IReadOnlyList<string>? entrypoint = null, IReadOnlyList<string>? cmd = null, IReadOnlyList<string>? env = null,
        string? user = null, string? workingDir = null) =>
        new(user, env ?? ["PATH=/usr/bin:/bin"], entrypoint ?? [], cmd ?? ["/bin/sh"], workingDir,
            new Dictionary<string, string>(), null, "linux", "amd64", "{}");

    public static ContainerConfig Config(string name = "app") => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = "example.test/app:1" },
        Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext(), Resources = new LinuxContainerResources() },
    };

    public static PodSandboxConfig Sandbox(bool privileged = false) => new()
    {
        Metadata = new PodSandboxMetadata { Name = "pod", Namespace = "default", Uid = "uid-1" },
        Hostname = "pod-host",
        LogDirectory = "/var/log/pods/default_pod_uid-1",
        Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext { Privileged = privileged, NamespaceOptions = new NamespaceOption() },
        },
    };

    public static HostFeatures Host(bool cgroupV2 = false, int minOom = -1000, bool seccomp = true) =>
        new(cgroupV2, minOom, seccomp);

    public ContainerSpecContext Context(
        ContainerConfig? config = null, ImageConfig? image = null, PodSandboxConfig? sandbox = null, HostFeatures? host = null,
        SandboxNamespaces? namespaces = null) =>
        new(
            "c0ffee",
            config ?? Config(),
            sandbox ?? Sandbox(),
            new ImageRecord("sha256:abc", ["example.test/app:1"], [], 1, false, image ?? ImageConfig(), [], null),
            Rootfs,
            namespaces ?? new SandboxNamespaces("/run/netns/pod", "/proc/1/ns/ipc", "/proc/1/ns/uts", null),
            "/kubepods/podx/c0ffee",
            new SandboxFiles(Path.Combine(PodDir, "hostname"), Path.Combine(PodDir, "hosts"), Path.Combine(PodDir, "resolv.conf"), Path.Combine(PodDir, "shm")),
            host ?? Host());

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
