using Crisp.Cri.V1;
using Crisp.ImageService.Api;

// The constructor parameters are used by the per-RPC partial files; until every RPC
// group has its file some may be unread.
#pragma warning disable CS9113

namespace Crisp.Server.Services.Image;

/// <summary>
/// runtime.v1.ImageService. One file per RPC in this folder, each only translating between CRI
/// messages and <see cref="IImageManager"/>. RPCs without a file answer Unimplemented.
/// </summary>
public sealed partial class CrispImageService(IImageManager images, Crisp.Runtime.Handlers.RuntimeHandlerRegistry handlers)
    : Crisp.Cri.V1.ImageService.ImageServiceBase
{
    // Handlers use the primary-constructor parameters directly.

    private string RuntimeHandler(ImageSpec? spec, string field) =>
        ImageRuntimeHandler.Resolve(spec?.RuntimeHandler, handlers.All.Select(h => h.Name), field);
}
