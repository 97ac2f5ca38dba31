using System.Formats.Tar;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// Builds one layer's tar stream. The typed Add* methods write well-formed, relative entry names
/// ("bin/sh", "etc/"); <see cref="AddRawEntry"/> writes a name exactly as given, for hostile layers.
/// Entries are written in the order added, with a fixed mtime so the same content gives the same digest.
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

    /// <param name="format">
    /// PAX (default) writes an extended header for every entry; GNU and ustar are what many real images use.
    /// ustar cannot hold names over 255 bytes.
    /// </param>
    public LayerBuilder(TarEntryFormat format = TarEntryFormat.Pax)
    {
        if (format is not (TarEntryFormat.Pax or TarEntryFormat.Gnu or TarEntryFormat.Ustar))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "layers support PAX, GNU or ustar tar entries");
        }

        Format = format;
    }

    public TarEntryFormat Format { get; }

    public int Count => _entries.Count;

    public LayerBuilder AddDirectory(string path, UnixFileMode mode = DirectoryMode, int uid = 0, int gid = 0) =>
        Add(new Entry(TarEntryType.Directory, DirectoryName(path), mode, uid, gid));

    public LayerBuilder AddFile(string path, ReadOnlyMemory<byte> content, UnixFileMode mode = FileMode, int uid = 0, int gid = 0) =>
        Add(new Entry(TarEntryType.RegularFile, FileName(path), mode, uid, gid) { Content = content });

    public LayerBuilder AddFile(string path, string text, UnixFileMode mode = FileMode, int uid = 0, int gid = 0) =>
        AddFile(path, System.Text.Encoding.UTF8.GetBytes(text), mode, uid, gid);

    public LayerBuilder AddSymlink(string path, string target, int uid = 0, int gid = 0) =>
        Add(new Entry(TarEntryType.SymbolicLink, FileName(path), (UnixFileMode)0b111_111_111, uid, gid) { LinkName = target });

    /// <summary>A hard link at <paramref name="path"/> to <paramref name="target"/>, an earlier entry of the same layer.</summary>
    public LayerBuilder AddHardLink(string path, string target) =>
        Add(new Entry(TarEntryType.HardLink, FileName(path), FileMode, 0, 0) { LinkName = FileName(target) });

    /// <summary>Deletes <paramref name="path"/> (file or directory) of lower layers: writes "dir/.wh.name".</summary>
    public LayerBuilder AddWhiteout(string path)
    {
        var name = FileName(path);
        var slash = name.LastIndexOf('/');
        var whiteout = slash < 0 ? WhiteoutPrefix + name : name[..(slash + 1)] + WhiteoutPrefix + name[(slash + 1)..];
        return Add(new Entry(TarEntryType.RegularFile, whiteout, FileMode, 0, 0));
    }

    /// <summary>Hides everything lower layers put in <paramref name="directory"/>: writes "dir/.wh..wh..opq".</summary>
    public LayerBuilder AddOpaqueWhiteout(string directory) =>
        Add(new Entry(TarEntryType.RegularFile, DirectoryName(directory) + OpaqueWhiteoutName, FileMode, 0, 0));

    public LayerBuilder AddCharacterDevice(string path, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_110) =>
        Add(new Entry(TarEntryType.CharacterDevice, FileName(path), mode, 0, 0) { DeviceMajor = major, DeviceMinor = minor });

    public LayerBuilder AddBlockDevice(string path, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_000) =>
        Add(new Entry(TarEntryType.BlockDevice, FileName(path), mode, 0, 0) { DeviceMajor = major, DeviceMinor = minor });

    public LayerBuilder AddFifo(string path, UnixFileMode mode = FileMode) =>
        Add(new Entry(TarEntryType.Fifo, FileName(path), mode, 0, 0));

    /// <summary>
    /// Writes an entry with <paramref name="name"/> and <paramref name="linkName"/> verbatim: no normalisation,
    /// so names like "../../x", "/etc/x" or link targets outside the rootfs reach the unpacker unchanged.
    /// </summary>
    public LayerBuilder AddRawEntry(TarEntryType type, string name, string? linkName = null, ReadOnlyMemory<byte> content = default, UnixFileMode mode = FileMode) =>
        Add(new Entry(type, name, mode, 0, 0) { LinkName = linkName, Content = content });

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

    public CompressedLayer Build(LayerCompression compression) => CompressedLayer.FromTar(BuildTar(), compression);

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

        public PosixTarEntry ToTarEntry(TarEntryFormat format)
        {
            PosixTarEntry entry = format switch
            {
                TarEntryFormat.Gnu => new GnuTarEntry(Type, Name) { AccessTime = EntryTime, ChangeTime = EntryTime },
                TarEntryFormat.Ustar => new UstarTarEntry(Type, Name),
                _ => new PaxTarEntry(Type, Name),
            };
            entry.Mode = Mode;
            entry.Uid = Uid;
            entry.Gid = Gid;
            entry.ModificationTime = EntryTime;
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
