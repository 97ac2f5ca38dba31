using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Runtime;
using Crisp.Runtime.Handlers;
using Crisp.Server.Hosting;
using Crisp.Server.Streaming;

// The constructor parameters are used by the per-RPC partial files; until every RPC
// group has its file some may be unread.
#pragma warning disable CS9113

namespace Crisp.Server.Services.Runtime;

/// <summary>
/// runtime.v1.RuntimeService. One file per RPC in this folder (named after the RPC), each only
/// translating between CRI messages and <see cref="ContainerRuntime"/>. RPCs without a file are
/// answered Unimplemented (with the RPC named) by the generated base class and the interceptor.
/// </summary>
public sealed partial class CrispRuntimeService(
    DaemonContext daemon, ContainerRuntime runtime, RuntimeHandlerRegistry handlers, IImageManager images, StreamingServer streaming,
    Crisp.Runtime.State.StateStore state, Crisp.Runtime.Cdi.CdiRegistry cdi)
    : RuntimeService.RuntimeServiceBase
{
    // Handlers use the primary-constructor parameters (daemon, runtime, handlers, images, streaming) directly.
}
