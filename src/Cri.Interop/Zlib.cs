using System.Buffers;
using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>
/// Streaming zlib (RFC 1950) through the system libz. .NET's ZLibStream cannot take a preset
/// dictionary, and SPDY/3 header blocks are compressed with one (FDICT), so the SPDY framing needs
/// inflateSetDictionary/deflateSetDictionary. Each instance is one long-lived compression context
/// (SPDY keeps one per direction for a whole connection); none of them is thread-safe.
/// </summary>
public static unsafe partial class Zlib
{
    private const string LibName = "libz.so.1";

    private const int Z_OK = 0;
    private const int Z_STREAM_END = 1;
    private const int Z_NEED_DICT = 2;
    private const int Z_BUF_ERROR = -5;
    private const int Z_SYNC_FLUSH = 2;

    /// <summary>zlib's z_stream for LP64 Linux. It must not move after init (zlib keeps a back
    /// pointer to it and rejects a moved stream), so it always lives in native memory.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public byte* Msg;
        public nint State;
        public nint ZAlloc;
        public nint ZFree;
        public nint Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    [LibraryImport(LibName, EntryPoint = "zlibVersion")]
    private static partial byte* ZlibVersionRaw();

    [LibraryImport(LibName, EntryPoint = "inflateInit_")]
    private static partial int InflateInitRaw(ZStream* strm, byte* version, int streamSize);

    [LibraryImport(LibName, EntryPoint = "inflateSetDictionary")]
    private static partial int InflateSetDictionaryRaw(ZStream* strm, byte* dictionary, uint dictLength);

    [LibraryImport(LibName, EntryPoint = "inflate")]
    private static partial int InflateRaw(ZStream* strm, int flush);

    [LibraryImport(LibName, EntryPoint = "inflateEnd")]
    private static partial int InflateEndRaw(ZStream* strm);

    [LibraryImport(LibName, EntryPoint = "deflateInit_")]
    private static partial int DeflateInitRaw(ZStream* strm, int level, byte* version, int streamSize);

    [LibraryImport(LibName, EntryPoint = "deflateSetDictionary")]
    private static partial int DeflateSetDictionaryRaw(ZStream* strm, byte* dictionary, uint dictLength);

    [LibraryImport(LibName, EntryPoint = "deflate")]
    private static partial int DeflateRaw(ZStream* strm, int flush);

    [LibraryImport(LibName, EntryPoint = "deflateEnd")]
    private static partial int DeflateEndRaw(ZStream* strm);

    /// <summary>The zlib version string of the loaded libz, e.g. "1.2.13".</summary>
    public static string Version => Marshal.PtrToStringUTF8((nint)ZlibVersionRaw()) ?? "";

    private static ZlibException Error(string call, int code, ZStream* strm)
    {
        var message = strm != null && strm->Msg != null ? Marshal.PtrToStringUTF8((nint)strm->Msg) : null;
        return new ZlibException(call, code, message);
    }

    /// <summary>Adler-32 as zlib computes it; it is also the id an FDICT header names a dictionary by.</summary>
    public static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        foreach (var value in data)
        {
            a = (a + value) % Mod;
            b = (b + a) % Mod;
        }
        return (b << 16) | a;
    }

    /// <summary>A zlib decompression context that supplies its preset dictionary when the
    /// stream asks for one (Z_NEED_DICT), and keeps its window across calls.</summary>
    public sealed class Inflater : IDisposable
    {
        private ZStream* _strm;
        private readonly byte[] _dictionary;

        public Inflater(ReadOnlySpan<byte> dictionary)
        {
            _dictionary = dictionary.ToArray();
            _strm = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            var rc = InflateInitRaw(_strm, ZlibVersionRaw(), sizeof(ZStream));
            if (rc != Z_OK)
            {
                var error = Error("inflateInit", rc, _strm);
                NativeMemory.Free(_strm);
                _strm = null;
                throw error;
            }
        }

        /// <summary>
        /// Decompresses all of <paramref name="input"/> (which must end on a flush point, as every
        /// SPDY header block does) into <paramref name="output"/>. Throws when the output would
        /// exceed <paramref name="maxOutput"/> bytes, so a tiny block cannot balloon in memory.
        /// </summary>
        public void Inflate(ReadOnlySpan<byte> input, IBufferWriter<byte> output, int maxOutput)
        {
            ObjectDisposedException.ThrowIf(_strm == null, this);
            var produced = 0;
            fixed (byte* inPtr = input)
            {
                _strm->NextIn = inPtr;
                _strm->AvailIn = (uint)input.Length;
                try
                {
                    while (true)
                    {
                        var span = output.GetSpan(4096);
                        int rc;
                        uint outLength = (uint)span.Length;
                        fixed (byte* outPtr = span)
                        {
                            _strm->NextOut = outPtr;
                            _strm->AvailOut = outLength;
                            rc = InflateRaw(_strm, Z_SYNC_FLUSH);
                        }
                        var written = (int)(outLength - _strm->AvailOut);
                        output.Advance(written);
                        produced += written;
                        if (produced > maxOutput)
                            throw new ZlibException("inflate", Z_BUF_ERROR, $"output exceeds {maxOutput} bytes");

                        if (rc == Z_NEED_DICT)
                        {
                            fixed (byte* dict = _dictionary)
                            {
                                var wanted = (uint)_strm->Adler;
                                var setRc = InflateSetDictionaryRaw(_strm, dict, (uint)_dictionary.Length);
                                if (setRc != Z_OK)
                                    throw new ZlibException("inflateSetDictionary", setRc,
                                        $"stream wants preset dictionary {wanted:x8}, ours is {Adler32(_dictionary):x8}");
                            }
                            continue;
                        }
                        if (rc == Z_STREAM_END)
                        {
                            if (_strm->AvailIn != 0)
                                throw new ZlibException("inflate", rc, $"{_strm->AvailIn} bytes after the end of the zlib stream");
                            return;
                        }
                        // Z_BUF_ERROR only means "no progress possible": all input consumed and flushed.
                        if (rc != Z_OK && rc != Z_BUF_ERROR) throw Error("inflate", rc, _strm);
                        if (_strm->AvailIn == 0 && _strm->AvailOut != 0) return;
                        if (rc == Z_BUF_ERROR && _strm->AvailOut != 0)
                            throw new ZlibException("inflate", rc, "input ends in the middle of a block");
                    }
                }
                finally
                {
                    ForgetBuffers(_strm);
                }
            }
        }

        public void Dispose()
        {
            if (_strm == null) return;
            InflateEndRaw(_strm);
            NativeMemory.Free(_strm);
            _strm = null;
        }
    }

    /// <summary>The stream points into pinned spans only during a call; never leave those pointers behind.</summary>
    private static void ForgetBuffers(ZStream* strm)
    {
        strm->NextIn = null;
        strm->AvailIn = 0;
        strm->NextOut = null;
        strm->AvailOut = 0;
    }

    /// <summary>A zlib compression context with a preset dictionary; each call emits one
    /// sync-flushed chunk that a peer can decode on its own, continuing the same stream.</summary>
    public sealed class Deflater : IDisposable
    {
        private ZStream* _strm;

        public Deflater(int level, ReadOnlySpan<byte> dictionary)
        {
            _strm = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            var rc = DeflateInitRaw(_strm, level, ZlibVersionRaw(), sizeof(ZStream));
            if (rc == Z_OK && !dictionary.IsEmpty)
            {
                fixed (byte* dict = dictionary)
                    rc = DeflateSetDictionaryRaw(_strm, dict, (uint)dictionary.Length);
                if (rc != Z_OK) DeflateEndRaw(_strm);
            }
            if (rc != Z_OK)
            {
                var error = Error(dictionary.IsEmpty ? "deflateInit" : "deflateSetDictionary", rc, _strm);
                NativeMemory.Free(_strm);
                _strm = null;
                throw error;
            }
        }

        /// <summary>Compresses <paramref name="input"/> and sync-flushes, appending to <paramref name="output"/>.</summary>
        public void DeflateSyncFlush(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
        {
            ObjectDisposedException.ThrowIf(_strm == null, this);
            fixed (byte* inPtr = input)
            {
                _strm->NextIn = inPtr;
                _strm->AvailIn = (uint)input.Length;
                try
                {
                    while (true)
                    {
                        var span = output.GetSpan(Math.Max(256, input.Length / 2));
                        int rc;
                        uint outLength = (uint)span.Length;
                        fixed (byte* outPtr = span)
                        {
                            _strm->NextOut = outPtr;
                            _strm->AvailOut = outLength;
                            rc = DeflateRaw(_strm, Z_SYNC_FLUSH);
                        }
                        output.Advance((int)(outLength - _strm->AvailOut));
                        if (rc != Z_OK && rc != Z_BUF_ERROR) throw Error("deflate", rc, _strm);
                        // Room left in the output buffer means the flush completed.
                        if (_strm->AvailOut != 0 && _strm->AvailIn == 0) return;
                    }
                }
                finally
                {
                    ForgetBuffers(_strm);
                }
            }
        }

        public void Dispose()
        {
            if (_strm == null) return;
            DeflateEndRaw(_strm);
            NativeMemory.Free(_strm);
            _strm = null;
        }
    }
}

/// <summary>A zlib call failed; carries the call, zlib's return code and its message.</summary>
public sealed class ZlibException : IOException
{
    public string Call { get; }
    public int Code { get; }

    public ZlibException(string call, int code, string? detail)
        : base(detail is null ? $"{call}: zlib error {code}" : $"{call}: {detail} (zlib error {code})") =>
        (Call, Code) = (call, code);
}
