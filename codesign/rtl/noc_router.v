`timescale 1ns/1ps
`default_nettype none
// noc_router: 5-port mesh router for single-flit packets.
// Ports 0..4 = local, north, east, south, west. A flit carries its destination in its
// low bits: dst_x (column) in [X_BITS-1:0], dst_y (row, south = +1) above it.
// Input FIFOs of DEPTH flits, XY (dimension-order) routing on the FIFO head, one
// round-robin arbiter per output (the first requester at or after the pointer wins; the
// pointer moves past the winner when the flit is accepted), valid/ready on every port.
// A refused offer is locked: the output keeps its winner (and data) until accepted.
// Cycle-exact model: codesign/mapping/noc.py.
module noc_router #(
    parameter integer FLIT_W = 32,
    parameter integer DEPTH  = 4,
    parameter integer X_BITS = 2,
    parameter integer Y_BITS = 2,
    parameter integer X      = 0,
    parameter integer Y      = 0
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [4:0]          in_valid,
    output wire [4:0]          in_ready,
    input  wire [5*FLIT_W-1:0] in_data,
    output reg  [4:0]          out_valid,
    input  wire [4:0]          out_ready,
    output reg  [5*FLIT_W-1:0] out_data
);
    localparam [2:0] P_L = 3'd0, P_N = 3'd1, P_E = 3'd2, P_S = 3'd3, P_W = 3'd4;
    localparam [X_BITS:0] MY_X = X[X_BITS:0];   // one spare bit: the sign of dst - me
    localparam [Y_BITS:0] MY_Y = Y[Y_BITS:0];

    wire [4:0]          head_valid;
    wire [5*FLIT_W-1:0] head_data;
    wire [14:0]         dir;        // requested output of each input head, 3 bits each
    wire [4:0]          pop;

    genvar gi;
    generate
        for (gi = 0; gi < 5; gi = gi + 1) begin : g_in
            wire [X_BITS:0] dx = {1'b0, head_data[gi*FLIT_W +: X_BITS]} - MY_X;
            wire [Y_BITS:0] dy = {1'b0, head_data[gi*FLIT_W + X_BITS +: Y_BITS]} - MY_Y;
            noc_fifo #(.W(FLIT_W), .DEPTH(DEPTH)) u_fifo (
                .clk(clk), .rst(rst),
                .push(in_valid[gi]), .ready(in_ready[gi]), .din(in_data[gi*FLIT_W +: FLIT_W]),
                .pop(pop[gi]), .valid(head_valid[gi]), .dout(head_data[gi*FLIT_W +: FLIT_W]));
            // XY: the sign bit of dst - me says west/north, a non-zero rest east/south
            assign dir[gi*3 +: 3] = dx[X_BITS]                 ? P_W :
                                    (dx != {(X_BITS+1){1'b0}}) ? P_E :
                                    dy[Y_BITS]                 ? P_N :
                                    (dy != {(Y_BITS+1){1'b0}}) ? P_S : P_L;
        end
    endgenerate

    // (a + b) mod 5 for a, b in 0..4
    function [2:0] add5;
        input [2:0] a;
        input [2:0] b;
        reg   [3:0] s;
        begin
            s = {1'b0, a} + {1'b0, b};
            if (s >= 4'd5) s = s - 4'd5;
            add5 = s[2:0];
        end
    endfunction

    // requests of inputs p, p+1, p+2, p+3 (mod 5) in bits 0..3; the fifth, p+4, wins
    // only when these are all 0, so its bit is not needed
    function [3:0] prio4;
        input [4:0] req;
        input [2:0] p;
        begin
            case (p)
                3'd1:    prio4 = req[4:1];
                3'd2:    prio4 = {req[0],   req[4:2]};
                3'd3:    prio4 = {req[1:0], req[4:3]};
                3'd4:    prio4 = {req[2:0], req[4]};
                default: prio4 = req[3:0];
            endcase
        end
    endfunction

    wire [14:0] grant;    // winning input of each output, 3 bits each
    wire [4:0]  xfer;     // output o hands its flit over this cycle

    genvar go, gr;
    generate
        for (go = 0; go < 5; go = go + 1) begin : g_out
            localparam [2:0] PORT = go;
            wire [4:0] req;
            for (gr = 0; gr < 5; gr = gr + 1) begin : g_req
                assign req[gr] = head_valid[gr] && (dir[gr*3 +: 3] == PORT);
            end
            reg  [2:0] rr_ptr;   // highest-priority input
            reg  [2:0] lock_in;  // winner of a refused offer
            reg        lock_v;
            // the first requester at or after rr_ptr, cyclically
            wire [3:0] rot = prio4(req, rr_ptr);
            wire [2:0] first = rot[0] ? 3'd0 : rot[1] ? 3'd1 : rot[2] ? 3'd2 :
                               rot[3] ? 3'd3 : 3'd4;
            wire [2:0] win = lock_v ? lock_in : add5(rr_ptr, first);
            assign grant[go*3 +: 3] = win;
            always @* begin
                out_valid[go] = |req;
                out_data[go*FLIT_W +: FLIT_W] = head_data[win*FLIT_W +: FLIT_W];
            end
            assign xfer[go] = out_valid[go] && out_ready[go];

            always @(posedge clk) begin
                if (rst) begin
                    rr_ptr  <= 3'd0;
                    lock_in <= 3'd0;
                    lock_v  <= 1'b0;
                end else begin
                    lock_v  <= out_valid[go] && !out_ready[go];
                    lock_in <= win;
                    if (xfer[go]) rr_ptr <= add5(win, 3'd1);
                end
            end
        end
        // an input pops when the output it requested takes its flit
        for (gr = 0; gr < 5; gr = gr + 1) begin : g_pop
            localparam [2:0] IN = gr;
            assign pop[gr] = (xfer[0] && grant[0 +: 3] == IN) || (xfer[1] && grant[3 +: 3] == IN)
                          || (xfer[2] && grant[6 +: 3] == IN) || (xfer[3] && grant[9 +: 3] == IN)
                          || (xfer[4] && grant[12 +: 3] == IN);
        end
    endgenerate
endmodule
`default_nettype wire
