"""Independent check of lib/physics with FEniCS 2019 (Debian python3-dolfin).

Usage: /usr/bin/python3 fenics_sensors.py linear|nonlinear NX NY
Prints the 30 sensor readings for the flux q_k = 2 + 1.5 sin(0.9 (k mod 15) + 0.4 (k div 15)) (bottom 1-15, top 1-15),
P1 on RectangleMesh(..., "right"), c = 0 at x = 0, kappa dc/dn = q on the wall segments (facets marked by midpoint,
so NX must make the segment ends x = 7j/15 fall on nodes, e.g. NX = 255), Newton from c0 = K(1 - exp(-3x)).
"""
import sys
import numpy as np
from dolfin import *

problem, nx, ny = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
L, H, XE = 8.5, 2.0, 7.0
if problem == "linear":
    kappa, umax, r, K = 0.02, 0.1, 0.0, 2.0
else:
    kappa, umax, r, K = 2.0, 12.0, 10.0, 2.0
q = [2 + 1.5 * np.sin(0.9 * (k % 15) + 0.4 * (k // 15)) for k in range(30)]

mesh = RectangleMesh(Point(0, 0), Point(L, H), nx, ny, "right")
V = FunctionSpace(mesh, "P", 1)
bc = DirichletBC(V, Constant(0.0), "near(x[0], 0.0) && on_boundary")
marks = MeshFunction("size_t", mesh, 1, 0)
for f in facets(mesh):
    if not f.exterior():
        continue
    m = f.midpoint()
    x, y = m.x(), m.y()
    if x < XE and (near(y, 0.0) or near(y, H)):
        seg = int(x / (XE / 15))
        marks[f] = 1 + seg + (15 if near(y, H) else 0)
ds = Measure("ds", domain=mesh, subdomain_data=marks)
dx = Measure("dx", domain=mesh)
u = Expression(("umax*4*x[1]*(H-x[1])/(H*H)", "0.0"), umax=umax, H=H, degree=2)
c = Function(V)
v = TestFunction(V)
F = dot(u, grad(c)) * v * dx + kappa * dot(grad(c), grad(v)) * dx - r * c * (1 - c / K) * v * dx
for k in range(30):
    F -= Constant(q[k]) * v * ds(k + 1)
if problem == "linear":
    cc = TrialFunction(V)
    a = dot(u, grad(cc)) * v * dx + kappa * dot(grad(cc), grad(v)) * dx
    Lf = Constant(q[0]) * v * ds(1)
    for k in range(1, 30):
        Lf += Constant(q[k]) * v * ds(k + 1)
    solve(a == Lf, c, bc)
else:
    c.interpolate(Expression("K*(1-exp(-3*x[0]))", K=K, degree=4))
    solve(F == 0, c, bc, solver_parameters={"newton_solver": {"relative_tolerance": 1e-13, "absolute_tolerance": 1e-13,
                                                              "maximum_iterations": 30}})
c.set_allow_extrapolation(True)
vals = [c(Point(0.5 * (k + 1), 0.5)) for k in range(15)] + [c(Point(0.5 * (k + 1), H - 0.5)) for k in range(15)]
print(" ".join("%.12g" % v for v in vals))
