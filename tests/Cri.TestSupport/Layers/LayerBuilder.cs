using System.Formats.Tar;

namespace Crisp.TestSupport.Layers;

/// <summary>
/// Builds one layer's tar stream, the one builder of the unit, integration and e2e tests. The typed Add*
/// methods write well-formed, relative entry names ("bin/sh", "etc/"); <see cref="AddRawEntry"/> writes a
/// name exactly as given, for hostile layers. Entries are written in the order added, with a fixed mtime
/// unless one is given, so the same content gives the same digest. Entries without an explicit owner
/// belong to root, as in real images; <see cref="OwnedByCurrentUser"/> gives them to the user running the
/// tests instead, so an unprivileged unpack can apply them (lchown to one's own ids needs no capability).
/// </summary>
public sealed class LayerBuilder
{
    public const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101; // 0755
    public const UnixFileMode FileMode = (UnixFileMode)0b110_100_100; // 0644
    public const UnixFileMode ExecutableMode = (UnixFileMode)0b111_101_101; // 0755
    public const string WhiteoutPrefix = ".wh.";
    public const string OpaqueWhiteoutName = ".wh..wh..opq";

    /// <summary>Every entry's mtime: fixed so rebuilding an image reproduces its digests.</summary>
    public static readonly DateTimeOffset EntryTime = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<Entry> _entries = [];
    private readonly int _defaultUid;
    private readonly int _defaultGid;

    /// <param name="format">
    /// PAX (default) writes an extended header for every entry; GNU and ustar are what many real images use.
    /// ustar cannot hold names over 255 bytes.
    /// </param>
    public LayerBuilder(TarEntryFormat format = TarEntryFormat.Pax)
        : this(format, 0, 0)
    {
    }

    private LayerBuilder(TarEntryFormat format, int defaultUid, int defaultGid)
    {
        if (format is not (TarEntryFormat.Pax or TarEntryFormat.Gnu or TarEntryFormat.Ustar))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "layers support PAX, GNU or ustar tar entries");
        }

        Format = format;
        _defaultUid = defaultUid;
        _defaultGid = defaultGid;
    }

    /// <summary>A builder whose entries without an explicit owner belong to the effective uid and gid of the tests.</summary>
    public static LayerBuilder OwnedByCurrentUser(TarEntryFormat format = TarEntryFormat.Pax) =>
        new(format, (int)Crisp.Interop.Libc.GetEffectiveUid(), (int)Crisp.Interop.Libc.GetEffectiveGid());

    public TarEntryFormat Format { get; }

    public int Count => _entries.Count;

    public LayerBuilder AddDirectory(string path, UnixFileMode mode = DirectoryMode, int? uid = null, int? gid = null, DateTimeOffset? mtime = null) =>
        Add(new Entry(TarEntryType.Directory, DirectoryName(path), mode, uid ?? _defaultUid, gid ?? _defaultGid) { ModificationTime = mtime ?? EntryTime });

    /// <param name="paxAttributes">Extended header records (xattrs as "SCHILY.xattr.name"); PAX layers only.</param>
    public LayerBuilder AddFile(string path, ReadOnlyMemory<byte> content, UnixFileMode mode = FileMode, int? uid = null, int? gid = null,
        DateTimeOffset? mtime = null, IReadOnlyDictionary<string, string>? paxAttributes = null)
    {
        if (paxAttributes is not null && Format != TarEntryFormat.Pax)
        {
            throw new ArgumentException($"extended attributes of \"{path}\" need a PAX layer, not {Format}", nameof(paxAttributes));
        }

        return Add(new Entry(TarEntryType.RegularFile, FileName(path), mode, uid ?? _defaultUid, gid ?? _defaultGid)
        {
            Content = content,
            ModificationTime = mtime ?? EntryTime,
            PaxAttributes = paxAttributes,
        });
    }

    public LayerBuilder AddFile(string path, string text, UnixFileMode mode = FileMode, int? uid = null, int? gid = null,
        DateTimeOffset? mtime = null, IReadOnlyDictionary<string, string>? paxAttributes = null) =>
        AddFile(path, System.Text.Encoding.UTF8.GetBytes(text), mode, uid, gid, mtime, paxAttributes);

    public LayerBuilder AddSymlink(string path, string target, int? uid = null, int? gid = null) =>
        Add(new Entry(TarEntryType.SymbolicLink, FileName(path), (UnixFileMode)0b111_111_111, uid ?? _defaultUid, gid ?? _defaultGid) { LinkName = target });

    /// <summary>A hard link at <paramref name="path"/> to <paramref name="target"/>, an earlier entry of the same layer.</summary>
    /// <remarks>
    /// The header carries the target's mode and owner, as tar and Go's archive/tar write it: extractors such as
    /// containerd's and Docker's apply a hard link's header to the shared inode, so a 0644 link would strip an
    /// executable target's x bits.
    /// </remarks>
    public LayerBuilder AddHardLink(string path, string target)
    {
        var linked = _entries.LastOrDefault(e => e.Name == FileName(target));
        return Add(new Entry(TarEntryType.HardLink, FileName(path), linked?.Mode ?? FileMode, linked?.Uid ?? _defaultUid, linked?.Gid ?? _defaultGid) { LinkName = FileName(target) });
    }

    /// <summary>Deletes <paramref name="path"/> (file or directory) of lower layers: writes "dir/.wh.name".</summary>
    public LayerBuilder AddWhiteout(string path)
    {
        var name = FileName(path);
        var slash = name.LastIndexOf('/');
        var whiteout = slash < 0 ? WhiteoutPrefix + name : name[..(slash + 1)] + WhiteoutPrefix + name[(slash + 1)..];
        return Add(new Entry(TarEntryType.RegularFile, whiteout, FileMode, _defaultUid, _defaultGid));
    }

    /// <summary>Hides everything lower layers put in <paramref name="directory"/>: writes "dir/.wh..wh..opq".</summary>
    public LayerBuilder AddOpaqueWhiteout(string directory) =>
        Add(new Entry(TarEntryType.RegularFile, DirectoryName(directory) + OpaqueWhiteoutName, FileMode, _defaultUid, _defaultGid));

    public LayerBuilder AddCharacterDevice(string path, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_110) =>
        Add(new Entry(TarEntryType.CharacterDevice, FileName(path), mode, _defaultUid, _defaultGid) { DeviceMajor = major, DeviceMinor = minor });

    public LayerBuilder AddBlockDevice(string path, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_000) =>
        Add(new Entry(TarEntryType.BlockDevice, FileName(path), mode, _defaultUid, _defaultGid) { DeviceMajor = major, DeviceMinor = minor });

    public LayerBuilder AddFifo(string path, UnixFileMode mode = FileMode) =>
        Add(new Entry(TarEntryType.Fifo, FileName(path), mode, _defaultUid, _defaultGid));

    /// <summary>
    /// Writes an entry with <paramref name="name"/> and <paramref name="linkName"/> verbatim: no normalisation,
    /// so names like "../../x", "/etc/x" or link targets outside the rootfs reach the unpacker unchanged.
    /// </summary>
    public LayerBuilder AddRawEntry(TarEntryType type, string name, string? linkName = null, ReadOnlyMemory<byte> content = default, UnixFileMode mode = FileMode) =>
        Add(new Entry(type, name, mode, _defaultUid, _defaultGid) { LinkName = linkName, Content = content });

    /// <summary>The uncompressed tar stream (what the layer's diff id is computed over).</summary>
    public byte[] BuildTar()
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, Format, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                writer.WriteEntry(entry.ToTarEntry(Format));
            }
        }

        return output.ToArray();
    }

    public CompressedLayer Build(LayerCompression compression = LayerCompression.Gzip) => CompressedLayer.FromTar(BuildTar(), compression);

    private LayerBuilder Add(Entry entry)
    {
        _entries.Add(entry);
        return this;
    }

    private static string FileName(string path)
    {
        var name = path.Trim('/');
        if (name.Length == 0)
        {
            throw new ArgumentException("an entry needs a non-root path", nameof(path));
        }

        return name;
    }

    private static string DirectoryName(string path) => FileName(path) + "/";

    private sealed record Entry(TarEntryType Type, string Name, UnixFileMode Mode, int Uid, int Gid)
    {
        public string? LinkName { get; init; }

        public ReadOnlyMemory<byte> Content { get; init; }

        public int DeviceMajor { get; init; }

        public int DeviceMinor { get; init; }

        public DateTimeOffset ModificationTime { get; init; } = EntryTime;

        public IReadOnlyDictionary<string, string>? PaxAttributes { get; init; }

        public PosixTarEntry ToTarEntry(TarEntryFormat format)
        {
            PosixTarEntry entry = format switch
            {
                TarEntryFormat.Gnu => new GnuTarEntry(Type, Name) { AccessTime = EntryTime, ChangeTime = EntryTime },
                TarEntryFormat.Ustar => new UstarTarEntry(Type, Name),
                _ => new PaxTarEntry(Type, Name, PaxAttributes ?? new Dictionary<string, string>()),
            };
            entry.Mode = Mode;
            entry.Uid = Uid;
            entry.Gid = Gid;
            entry.ModificationTime = ModificationTime;
            if (LinkName is not null)
            {
                entry.LinkName = LinkName;
            }

            if (Type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
            {
                entry.DeviceMajor = DeviceMajor;
                entry.DeviceMinor = DeviceMinor;
            }

            if (Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                // Large layers are 10 MiB each: wrap the existing array rather than copying it.
                entry.DataStream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Content, out var segment)
                    ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                    : new MemoryStream(Content.ToArray(), writable: false);
            }

            return entry;
        }
    }
}
