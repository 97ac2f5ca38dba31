namespace Crisp.E2E.Fixtures;

/// <summary>
/// An image whose last layer attacks the unpacker. A safe runtime either rejects the image or keeps every entry
/// inside the rootfs: none of <see cref="EscapedHostPaths"/> may appear on the host, and none of
/// <see cref="HardLinksToHostFiles"/> may end up sharing an inode with its host file.
/// </summary>
public sealed record HostileImage(
    BuiltImage Image,
    string Attack,
    IReadOnlyList<string> EscapedHostPaths,
    IReadOnlyList<HostileHardLink> HardLinksToHostFiles);

/// <summary><paramref name="RootfsPath"/> (inside the unpacked rootfs) must not be a hard link of <paramref name="HostPath"/>.</summary>
public sealed record HostileHardLink(string RootfsPath, string HostPath);
