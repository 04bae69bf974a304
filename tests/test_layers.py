"""Every LAGNet layer: shapes, gradients, and the paper's equations against hand-written functional references."""
import pytest
import torch
import torch.nn.functional as F

from lagnet_modules import LGB, SCEM, ChannelAttention, ChannelSlice, InvertedResidual, MobileNetConv, SpatialAttention

LAYERS = [
    (lambda: ChannelSlice(6, 3, 6), (2, 6, 16, 16), (2, 3, 16, 16)),
    (lambda: MobileNetConv(3, 16, 3, 2, 'HS'), (2, 3, 16, 16), (2, 16, 8, 8)),
    (lambda: InvertedResidual(16, 5, 72, 24, True, 'RE', 2), (2, 16, 16, 16), (2, 24, 8, 8)),
    (lambda: InvertedResidual(24, 3, 72, 24, False, 'HS', 1), (2, 24, 16, 16), (2, 24, 16, 16)),
    (lambda: ChannelAttention(32), (2, 32, 16, 16), (2, 32, 1, 1)),
    (lambda: SpatialAttention(), (2, 32, 16, 16), (2, 1, 16, 16)),
    (lambda: SCEM(32, 5, 2), (2, 32, 16, 20), (2, 32, 16, 20)),
    (lambda: SCEM(32, 3, 3), (2, 32, 16, 20), (2, 32, 16, 20)),
]


@pytest.mark.parametrize('make, shape_in, shape_out', LAYERS)
def test_shape_and_gradient(make, shape_in, shape_out):
    m = make()
    x = torch.randn(shape_in, requires_grad=True)
    y = m(x)
    assert y.shape == shape_out
    y.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in m.parameters())


def test_lgb_shape_and_gradient():
    m = LGB(40, 64)
    r, l = torch.randn(2, 40, 8, 8, requires_grad=True), torch.randn(2, 40, 8, 8, requires_grad=True)
    y = m([r, l])
    assert y.shape == (2, 64, 8, 8)
    y.mean().backward()
    assert r.grad.abs().sum() > 0 and l.grad.abs().sum() > 0


# ---- hand-written references using the modules' own weights (eval mode: BN uses running statistics) ----

def ref_conv(conv, x, **kw):
    """YOLOv5 Conv / our DepthwiseStrip: conv -> BN(running stats) -> SiLU."""
    c, bn = conv.conv, conv.bn
    x = F.conv2d(x, c.weight, c.bias, c.stride, c.padding, c.dilation, c.groups)
    return F.silu(F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps))


def ref_sa(sa, x):
    pooled = torch.cat([x.mean(1, keepdim=True), x.max(1, keepdim=True).values], 1)
    return torch.sigmoid(F.conv2d(pooled, sa.conv.weight, padding=sa.conv.kernel_size[0] // 2))


def ref_ca(ca, x):
    w1, w2 = ca.mlp[0].weight, ca.mlp[2].weight
    mlp = lambda v: F.conv2d(F.relu(F.conv2d(v, w1)), w2)  # noqa: E731
    return torch.sigmoid(mlp(x.mean((2, 3), keepdim=True)) + mlp(x.amax((2, 3), keepdim=True)))


def randomize_bn(m):
    for bn in (x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.5, 0.5)
    return m.eval()


def test_lgb_matches_eq_2_3():
    m = randomize_bn(LGB(24, 32))
    r, l = torch.randn(2, 24, 12, 10), torch.randn(2, 24, 12, 10)
    d = r - l  # Eq. 2
    a = ref_sa(m.attention, d)  # Eq. 2
    c = ref_conv(m.fuse, r * a + l * a)  # Eq. 3
    torch.testing.assert_close(m([r, l]), c)


@pytest.mark.parametrize('k, n, merge, identity', [(5, 2, 'product', False), (3, 1, 'product', False),
                                                   (7, 3, 'product', False), (5, 2, 'sum', False),
                                                   (5, 2, 'product', True), (3, 2, 'sum', True)])
def test_scem_matches_eq_6_10(k, n, merge, identity):
    m = randomize_bn(SCEM(16, k, n, merge, identity))
    p = torch.randn(2, 16, 14, 18)

    def branch(b, x, kernel):
        for strip in b.strips:  # Eq. 6/7: n stacked depthwise strip convs
            assert strip.conv.kernel_size == kernel and strip.conv.groups == 16
            x = ref_conv(strip, x)
        x = x * ref_ca(b.channel_attention, x) * ref_sa(b.spatial_attention, x)  # Eq. 8
        return ref_conv(b.pointwise, x)

    sh, sv = branch(m.horizontal, p, (1, k)), branch(m.vertical, p, (k, 1))
    s = ref_conv(m.mix, sh + sv if merge == 'sum' else sh * sv)  # Eq. 9 (product as written; sum: our ablation)
    y = p + ref_conv(m.out, s) if identity else ref_conv(m.out, s + p)  # Eq. 10 (identity path: our ablation)
    assert len(m.horizontal.strips) == n
    torch.testing.assert_close(m(p), y)


def test_scem_rejects_even_kernel():
    with pytest.raises(ValueError, match='odd strip length'):
        SCEM(16, 4, 2)


@pytest.mark.parametrize('args, match', [((5, 2, 'max'), 'merge must be one of product, sum'),
                                         ((5, 2, 'sum', 'yes'), 'identity must be True or False')])
def test_scem_rejects_unknown_readings(args, match):
    with pytest.raises(ValueError, match=match):
        SCEM(16, *args)


def test_scem_saved_before_its_readings_existed_runs_as_written():
    m = SCEM(8).eval()
    del m.merge, m.identity  # an SCEM unpickled from a checkpoint of the first release has neither attribute
    p = torch.randn(1, 8, 6, 6)
    torch.testing.assert_close(m(p), m.out(m.mix(m.horizontal(p) * m.vertical(p)) + p))


def test_lgb_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='one shape'):
        LGB(8, 8)([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
